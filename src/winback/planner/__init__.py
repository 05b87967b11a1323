"""The repurchase target planner (seed 004): history matrix, status quo, gap, measures, solver, phases."""
