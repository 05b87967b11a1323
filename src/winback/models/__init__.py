"""Customer-base models (pure numpy/scipy): BG/NBD, MBG/NBD, Gamma-Gamma spend and customer lifetime value."""

from winback.models.base import ModelConvergenceWarning, WeakFitWarning
from winback.models.beta_geo import BetaGeoFitter, ModifiedBetaGeoFitter
from winback.models.clv import customer_lifetime_value
from winback.models.compress import compress
from winback.models.gamma_gamma import GammaGammaFitter

__all__ = [
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModelConvergenceWarning",
    "ModifiedBetaGeoFitter",
    "WeakFitWarning",
    "compress",
    "customer_lifetime_value",
]
