"""Header aliases: what ERP and POS exports call each field, in Chinese and English.

Headers are compared after `normalise_header` (NFKC, lower case, no spaces/underscores/hyphens/dots, a
trailing unit in brackets dropped), so "Order_ID", "order id" and "ORDER-ID" are the same header.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from winback.errors import InputError
from winback.i18n import _
from winback.ingest.fields import fields_of

_BRACKETED = re.compile(r"[(\[（【][^)\]）】]*[)\]）】]$")
_SEPARATORS = re.compile(r"[\s_\-./:：]+")

#: aliases shared by every kind (a kind may override below)
_COMMON: dict[str, tuple[str, ...]] = {
    "member_id": (
        "会员卡号",
        "会员编号",
        "卡号",
        "会员号",
        "会员id",
        "会员编码",
        "会员代码",
        "会员卡",
        "vip卡号",
        "vip号",
        "vip编号",
        "客户编号",
        "客户id",
        "顾客编号",
        "memberid",
        "member",
        "memberno",
        "membercode",
        "cardno",
        "cardnumber",
        "customerid",
        "customer",
        "custid",
        "vipcode",
        "vipno",
        "userid",
    ),
    "name": ("姓名", "会员姓名", "客户姓名", "顾客姓名", "name", "fullname", "membername", "customername"),
    "gender": ("性别", "gender", "sex"),
    "birthday": ("生日", "出生日期", "会员生日", "birthday", "birthdate", "dateofbirth", "dob"),
    "phone": (
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "联系电话",
        "移动电话",
        "联系方式",
        "电话号码",
        "mobile",
        "phone",
        "phoneno",
        "phonenumber",
        "mobilephone",
        "mobileno",
        "tel",
        "telephone",
        "cellphone",
    ),
    "wechat_id": ("微信号", "微信", "微信id", "微信账号", "wechat", "wechatid", "wxid", "weixin", "weixinid"),
    "email": ("邮箱", "电子邮箱", "邮件", "email", "emailaddress", "mail"),
    "register_date": (
        "开卡日期",
        "开卡时间",
        "注册时间",
        "注册日期",
        "入会日期",
        "入会时间",
        "办卡日期",
        "registerdate",
        "registeredat",
        "registrationdate",
        "signupdate",
        "joindate",
        "joinedat",
        "createdat",
    ),
    "register_channel": ("注册渠道", "开卡渠道", "入会渠道", "registerchannel", "registrationchannel", "signupchannel"),
    "register_store": (
        "开卡门店",
        "注册门店",
        "入会门店",
        "办卡门店",
        "registerstore",
        "registrationstore",
        "signupstore",
    ),
    "store_id": (
        "门店",
        "所属门店",
        "归属门店",
        "门店编号",
        "门店代码",
        "门店编码",
        "门店id",
        "店铺",
        "店铺编号",
        "店号",
        "销售门店",
        "storeid",
        "store",
        "storecode",
        "storeno",
        "shop",
        "shopid",
        "shopcode",
    ),
    "guide_id": (
        "专属导购",
        "导购",
        "导购编号",
        "导购id",
        "所属导购",
        "营业员",
        "营业员编号",
        "导购员",
        "销售员",
        "店员",
        "guideid",
        "guide",
        "staffid",
        "salesperson",
        "salesclerk",
        "clerk",
        "assistant",
        "salesrep",
    ),
    "tier": ("会员等级", "等级", "会员级别", "卡类型", "卡级别", "tier", "level", "memberlevel", "grade", "viplevel"),
    "points": (
        "积分",
        "可用积分",
        "当前积分",
        "会员积分",
        "积分余额",
        "points",
        "point",
        "loyaltypoints",
        "pointbalance",
    ),
    "consent_sms": (
        "短信",
        "接收短信",
        "短信订阅",
        "允许短信",
        "短信营销",
        "短信许可",
        "是否接收短信",
        "sms",
        "smsconsent",
        "smsoptin",
        "acceptsms",
    ),
    "consent_wechat": (
        "微信推送",
        "接收微信",
        "允许微信",
        "微信订阅",
        "微信许可",
        "是否接收微信",
        "wechatconsent",
        "wechatoptin",
    ),
    "consent_email": ("邮件订阅", "接收邮件", "允许邮件", "emailconsent", "emailoptin"),
    "consent_call": ("允许电话", "接收电话", "电话回访", "允许来电", "callconsent", "phoneconsent"),
    "opted_out_at": ("退订时间", "退订日期", "optedoutat", "unsubscribedat", "optoutdate"),
    "source": ("来源", "会员来源", "数据来源", "source"),
    "order_id": (
        "单号",
        "订单号",
        "小票号",
        "订单编号",
        "销售单号",
        "小票编号",
        "单据号",
        "单据编号",
        "流水号",
        "交易号",
        "orderid",
        "orderno",
        "ordernumber",
        "order",
        "invoiceno",
        "invoice",
        "invoicenumber",
        "receiptno",
        "receipt",
        "ticketno",
        "transactionid",
    ),
    "original_order_id": (
        "原单号",
        "原订单号",
        "原小票号",
        "关联单号",
        "退货原单号",
        "originalorderid",
        "originalorder",
    ),
    "channel": ("渠道", "销售渠道", "下单渠道", "channel", "saleschannel"),
    "ordered_at": (
        "销售时间",
        "下单时间",
        "销售日期",
        "订单时间",
        "订单日期",
        "交易时间",
        "消费时间",
        "购买时间",
        "单据日期",
        "日期",
        "时间",
        "orderedat",
        "orderdate",
        "ordertime",
        "invoicedate",
        "saledate",
        "salesdate",
        "date",
        "datetime",
        "transactiontime",
        "purchasedate",
        "purchasetime",
    ),
    "amount": (
        "实收金额",
        "实付金额",
        "实收",
        "实付",
        "金额",
        "销售金额",
        "成交金额",
        "消费金额",
        "支付金额",
        "amount",
        "total",
        "totalamount",
        "paid",
        "paidamount",
        "netamount",
        "sales",
        "salesamount",
        "revenue",
    ),
    "quantity": ("件数", "数量", "销售数量", "商品数量", "quantity", "qty", "pcs", "units", "items"),
    "status": ("状态", "订单状态", "单据状态", "交易状态", "销售状态", "status", "orderstatus", "state"),
    "sku": (
        "商品编码",
        "商品编号",
        "货号",
        "款号",
        "条码",
        "商品条码",
        "sku",
        "skuid",
        "skucode",
        "itemcode",
        "productcode",
        "stockcode",
        "barcode",
        "productid",
        "itemid",
    ),
    "category": ("品类", "类别", "商品类别", "商品分类", "品类名称", "大类", "category", "productcategory"),
    "line_no": ("行号", "明细行号", "lineno", "line", "linenumber"),
    "city": ("城市", "所在城市", "city"),
    "region": ("区域", "大区", "地区", "省份", "region", "area", "province"),
    "address": ("地址", "门店地址", "详细地址", "address"),
    "latitude": ("纬度", "lat", "latitude"),
    "longitude": ("经度", "lng", "lon", "long", "longitude"),
    "opened_at": ("开业日期", "开店日期", "开业时间", "openedat", "opendate", "openingdate"),
    "closed_at": ("闭店日期", "关店日期", "关店时间", "停业日期", "closedat", "closedate", "closingdate"),
    "role": ("岗位", "职位", "角色", "role", "position", "jobtitle", "title"),
    "hired_at": ("入职日期", "入职时间", "hiredat", "hiredate", "startdate"),
    "left_at": ("离职日期", "离职时间", "leftat", "leavedate", "enddate", "terminationdate"),
    "event_type": ("事件", "事件类型", "行为", "行为类型", "eventtype", "event", "action", "type"),
    "occurred_at": (
        "发生时间",
        "事件时间",
        "行为时间",
        "时间",
        "日期",
        "occurredat",
        "timestamp",
        "time",
        "eventtime",
        "datetime",
        "date",
    ),
    "object_id": ("对象", "对象id", "页面", "商品编码", "商品", "objectid", "object", "page", "target", "sku", "item"),
}

#: per-kind aliases that win over the common ones (the same header means different things in different files)
_BY_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "stores": {
        "store_id": (
            "门店编号",
            "门店代码",
            "门店编码",
            "门店",
            "门店id",
            "店铺编号",
            "店号",
            "storeid",
            "storecode",
            "store",
            "shopid",
            "shopcode",
            "code",
            "id",
        ),
        "name": ("门店名称", "店名", "店铺名称", "名称", "name", "storename", "shopname"),
    },
    "staff": {
        "guide_id": (
            "导购编号",
            "员工编号",
            "工号",
            "导购",
            "导购id",
            "员工id",
            "营业员编号",
            "guideid",
            "staffid",
            "employeeid",
            "employeeno",
            "id",
        ),
        "name": ("姓名", "导购姓名", "员工姓名", "name", "guidename", "staffname"),
    },
}


def normalise_header(header: str) -> str:
    """'Order_ID ', '实收金额(元)', 'ＯＲＤＥＲ－ＩＤ' -> 'orderid', '实收金额', 'orderid'."""
    h = unicodedata.normalize("NFKC", str(header)).strip().lower()
    h = _BRACKETED.sub("", h).strip()
    return _SEPARATORS.sub("", h)


def alias_table(kind: str) -> dict[str, str]:
    """normalised header -> target field, for the fields `kind` has."""
    wanted = fields_of(kind)
    out: dict[str, str] = {}
    for fname, aliases in _BY_KIND.get(kind, {}).items():
        for a in aliases:
            out.setdefault(normalise_header(a), fname)
    for fname, aliases in _COMMON.items():
        if fname not in wanted:
            continue
        for a in aliases:
            out.setdefault(normalise_header(a), fname)
    for fname in wanted:  # the field's own name always works
        out.setdefault(normalise_header(fname), fname)
    return out


KEEP = "-"  # `--map 列名=-` keeps a column in `extra` instead of mapping it


@dataclass
class ColumnMapping:
    """How the file's columns are used: source column -> target field, and the columns kept in `extra`."""

    fields: dict[str, str] = field(default_factory=dict)  # target field -> source column
    kept: list[str] = field(default_factory=list)  # source columns stored in `extra`

    def as_source_to_target(self) -> dict[str, str]:
        return {src: dst for dst, src in self.fields.items()}


def parse_map_options(options: Sequence[str] | None) -> dict[str, str]:
    """['会员号=member_id', 'Foo=-'] -> {'会员号': 'member_id', 'Foo': '-'}."""
    out: dict[str, str] = {}
    for opt in options or ():
        if "=" not in opt:
            raise InputError(
                _('--map "{opt}" is not SRC=DST', opt=opt),
                hint=_(
                    "Write the file's column name, '=', and a field name, e.g. --map 会员号=member_id "
                    "(or SRC=- to keep the column in extra)."
                ),
            )
        src, dst = opt.split("=", 1)
        out[src.strip()] = dst.strip() or KEEP
    return out


def resolve_mapping(kind: str, columns: Sequence[str], overrides: Mapping[str, str] | None = None) -> ColumnMapping:
    """Decide which column feeds which field. Explicit overrides first, then aliases, first column wins."""
    known = fields_of(kind)
    table = alias_table(kind)
    result = ColumnMapping()
    used: set[str] = set()
    by_norm = {normalise_header(c): c for c in reversed(columns)}
    for src, dst in (overrides or {}).items():
        col = src if src in columns else by_norm.get(normalise_header(src))
        if col is None:
            raise InputError(
                _('--map names a column "{src}" that the file does not have', src=src),
                hint=_("The file's columns are: {columns}.", columns=", ".join(columns)),
            )
        if dst in (KEEP, "extra"):
            used.add(col)
            result.kept.append(col)
            continue
        if dst not in known:
            raise InputError(
                _('--map {src}={dst}: "{dst}" is not a {kind} field', src=src, dst=dst, kind=kind),
                hint=_(
                    "Fields for {kind}: {known} (or - to keep the column in extra).", kind=kind, known=", ".join(known)
                ),
            )
        result.fields[dst] = col
        used.add(col)
    for col in columns:
        if col in used:
            continue
        target = table.get(normalise_header(col))
        if target and target not in result.fields:
            result.fields[target] = col
        else:
            result.kept.append(col)
    return result
