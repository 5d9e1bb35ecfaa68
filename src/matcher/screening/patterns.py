"""The words the screening rules look for, in Vietnamese (without diacritics: patterns run over
a text's skeleton, :func:`matcher.screening.money.skeleton`) and English, with the limits the
rules use. Each group names the signal it serves; the signals' sources are in
``data/screening_signals.yaml``."""

from __future__ import annotations

import re

from matcher.screening.money import RATES


def _any(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words))


# ---------------------------------------------------------------------------- vocabulary
#: a state programme or public body by name (who may use the names: its operator only)
PUBLIC_BODY = _any(
    r"\bbo noi vu\b", r"\bbo (?:ld|lao dong)[- ]?(?:tb|thuong binh)", r"\bbo lao dong\b",
    r"\btrung tam lao dong ngoai nuoc\b", r"\bcolab\b", r"\bcuc quan ly lao dong ngoai nuoc\b",
    r"\bdolab\b", r"\bdai su quan\b", r"\bembassy\b", r"\bgiz\b", r"\btriple win\b",
    r"\bhrd korea\b", r"\bministry of (?:home affairs|labou?r)\b", r"\bso noi vu\b",
    r"\bcentre of overseas labou?r\b", r"\bcenter of overseas labou?r\b",
)  # fmt: skip
STATE_PROGRAMME = _any(
    r"\beps\b", r"\be-?9\b", r"\bim japan\b", r"\bimm japan\b", r"\be-?8\b",
    r"\bthoi vu (?:tai |o |sang |di |lam viec tai )?han\b", r"\bhan quoc\b.{0,40}\bthoi vu\b",
    r"\bseasonal (?:work|worker|labou?r|programme|program|job)", r"\btriple win\b",
    r"\bchuong trinh (?:cua )?(?:chinh phu|nha nuoc)\b", r"\bgovernment programme\b",
)  # fmt: skip
#: words that make a named programme or body the poster's own, or its partner
CLAIM = _any(
    r"doi tac", r"lien ket", r"truc thuoc", r"\bthuoc\b", r"can bo", r"uy quyen", r"uy thac",
    r"chinh thuc", r"phoi hop", r"do (?:cong ty|chung toi|trung tam)", r"chung toi", r"\btuyen",
    r"nhan ho so", r"dang ky", r"\bnop\b", r"\blien he\b", r"partner", r"official", r"affiliat",
    r"authori[sz]ed", r"on behalf", r"\bunder the\b", r"in cooperation", r"\bwe\b", r"\bour\b",
    r"recruit", r"apply", r"register", r"\bvia us\b", r"through us",
)  # fmt: skip
NEGATED = re.compile(
    r"khong (?:phai|tuyen|lien quan|thuoc|xet chon|lam|nhan|dai dien|thu)|khong co lien|"
    r"\bnot\b|\bno\b|does not|do not|don't|doesn't|never|\bkhong\b|chi do|only (?:by|through)"
)
FEE = _any(
    r"\bphi\b", r"chi phi", r"le phi", r"tien dich vu", r"dich vu", r"moi gioi", r"tron goi",
    r"dat coc", r"\bcoc\b", r"giu suat", r"giu cho", r"\bnop\b", r"dong tien", r"chuyen khoan",
    r"ho tro ho so", r"\bfee", r"deposit", r"\bcost", r"package", r"payment", r"processing",
    r"reserve", r"\bcharge", r"\bpay\b(?! (?:is|of|per|rate|range|from))", r"upfront",
)  # fmt: skip
#: costs a state programme itself lists for the worker (not a signal in a programme's posting)
PERSONAL_COST = _any(
    r"le phi thi", r"phi thi", r"topik", r"ho chieu", r"passport", r"kham suc khoe", r"medical",
    r"\bvisa\b", r"ky quy", r"ve may bay", r"air ?fare", r"ticket", r"ly lich tu phap",
    r"test fee", r"exam fee", r"criminal record",
)  # fmt: skip
PAY = _any(r"luong", r"thu nhap", r"salary", r"income", r"wage", r"earn", r"\bpay\b", r"hoa hong")
DEPOSIT = _any(
    r"dat coc", r"\btien coc\b", r"\bcoc\b", r"giu suat", r"giu cho", r"chong tron",
    r"chung minh tai chinh", r"phi dong phuc", r"tien dong phuc", r"deposit", r"holding fee",
    r"reserve (?:your |a |the )?(?:slot|place|seat|spot)", r"proof of funds", r"show money",
    r"uniform fee", r"keep (?:your |a |the )?(?:slot|place)", r"phi giu", r"nop truoc",
    r"dong truoc", r"pay (?:first|upfront|in advance)", r"upfront (?:fee|payment)",
)  # fmt: skip
DOMESTIC_FEE = _any(
    r"phi ho so",
    r"phi dao tao",
    r"phi bao hiem",
    r"phi nhan viec",
    r"phi xin viec",
    r"application fee",
    r"training fee",
    r"registration fee",
    r"phi dang ky",
    r"phi gioi thieu",
    r"phi moi gioi",
    r"\bnop\b.{0,40}\btruoc khi\b",
    r"placement fee",
)
TASK = _any(
    r"\bnap (?:tien|\d|truoc|vao)", r"kich hoat tai khoan", r"nang cap tai khoan",
    r"\bnap\b.{0,30}(?:kich hoat|nhiem vu|nhan don)", r"top[- ]?up", r"activate (?:your |the )?account",
    r"upgrade (?:your |the )?account", r"(?:nhiem vu|lam don|don hang ao).{0,40}hoa hong",
    r"hoa hong.{0,40}(?:nhiem vu|don hang)", r"(?:task|order)s?.{0,40}commission",
    r"commission.{0,40}tasks?", r"like video", r"tha tim", r"thanh toan (?:gia tri |truoc )?don",
    r"hoan (?:lai )?goc", r"pay for (?:the |each )?orders? (?:first|before)",
)  # fmt: skip
GUARANTEE = _any(
    r"\bbao (?:dau|do)(?: (?:visa|phong van|don))?(?: 100 ?%)?", r"\bbao (?:visa|xuat canh|bay)\b", r"\b100 ?% (?:dau|do|co visa|visa|xuat canh)",
    r"\b(?:dau|do) (?:visa )?100 ?%", r"cam ket (?:dau|do|co visa|xuat canh|bay)",
    r"chac chan (?:dau|do|co visa|xuat canh|duoc di|bay)", r"visa chac chan",
    r"dam bao (?:dau|do|co visa|xuat canh|bay|di)\b", r"khong (?:lo |so )?truot",
    r"guarantee[ds]? (?:the |your |a )?(?:visa|approval|departure|job|placement|selection|pass)",
    r"(?:visa|approval|departure|selection|placement)s? (?:is |are )?(?:100 ?% )?guaranteed",
    r"\b100 ?% (?:visa|success|pass|approval)", r"sure to (?:get|pass)",
    r"\b(?:9\d|100) ?% (?:hoc vien |ung vien |ho so )?(?:dau|do|xin visa thanh cong|co visa)",
    r"\b(?:9\d|100) ?% (?:of )?(?:applicants |students )?(?:get|got|obtain)\w* (?:a |the )?visa",
)  # fmt: skip
BYPASS = _any(
    r"khong can thi", r"khong (?:can )?(?:biet|hoc|thi) tieng", r"mien thi", r"khong qua thi",
    r"suat noi bo", r"suat ngoai giao", r"chuyen ho khau", r"lo ho khau", r"nhap ho khau",
    r"(?:truc xuat|bo tron|cu tru bat hop phap|quá han).{0,30}van (?:di|duoc)",
    r"qua tuoi van", r"khong gioi han tuoi", r"lo (?:kham|suc khoe)",
    r"no (?:language |korean |japanese )?test (?:needed|required)",
    r"without (?:the |a |any )?(?:language )?test", r"skip the (?:test|exam)", r"internal quota",
    r"(?:change|move) (?:your )?household registration", r"even if (?:you were )?deported",
)  # fmt: skip
ANY_PROVINCE = _any(r"nhan ho so (?:moi|tat ca cac|cac|toan quoc)", r"moi tinh", r"any province")
UNOFFICIAL = _any(
    r"visa du lich", r"visa thuong mai", r"visa cong tac", r"visa tham than",
    r"(?:doi|chuyen|chuyen doi|lam) (?:sang )?visa lao dong", r"qua cua khau",
    r"(?:xe|nguoi) (?:dua )?(?:don|cho) (?:tai|o|tu|qua) (?:bien gioi|cua khau)",
    r"tourist visa", r"business visa", r"visit visa", r"(?:change|convert|switch)\w* .{0,20}work visa",
    r"(?:ride|pick[- ]?up|transport) (?:from|at) the border", r"cross(?:ing)? the border",
    r"khong can hop dong", r"no contract",
)  # fmt: skip
DESK = _any(
    r"cskh", r"cham soc khach hang", r"nhap lieu", r"\bgame\b", r"online", r"typist", r"typing",
    r"customer service", r"data entry", r"telesale", r"marketing", r"casino", r"van phong",
    r"office", r"danh may", r"sales", r"ban hang qua mang",
)  # fmt: skip
BORDER_ZONES = {"KH", "MM", "LA"}
MESSAGING = _any(
    r"\bzalo\b", r"\btelegram\b", r"\btele\b", r"\bwhatsapp\b", r"\bwa\b", r"\bmessenger\b",
    r"\bfacebook\b", r"\bfb\b", r"\btiktok\b", r"\bviber\b", r"\bwechat\b", r"\bib\b",
    r"\binbox\b", r"\bnhan tin\b", r"\bmessage me\b", r"\bdm\b", r"\bsignal\b",
    r"(?:\+84|\b0)\d{2,3}[ .]?(?:\d{3}|x{3})[ .]?(?:\d{3,4}|x{3,4})\b", r"\bhotline\b",
)  # fmt: skip
ADDRESS = _any(
    r"dia chi", r"\bvp\b", r"van phong", r"tru so", r"chi nhanh", r"\bso \d+", r"\d+[a-z]? (?:duong|pho)\b",
    r"\bduong\b", r"\bphuong\b", r"\bquan\b", r"\btang \d", r"toa nha", r"\bkcn\b",
    r"khu cong nghiep", r"address", r"\boffice at\b", r"\bstreet\b", r"\broad\b", r"\bfloor\b",
    r"building", r"\bward\b", r"\bdistrict\b", r"nop (?:ho so )?(?:truc tiep )?tai", r"\bxa\b \w",
)  # fmt: skip
WEB = re.compile(
    r"\b[a-z0-9][a-z0-9-]*\.(?:com\.vn|vn|com|net|org|jp|kr|de|tw|au|asia)\b|"
    r"@[a-z0-9-]+\.[a-z]{2,}"
)
FREE_MAIL = re.compile(
    r"@(?:gmail|yahoo|hotmail|outlook)\.|facebook\.com|zalo\.me|tiktok\.com|t\.me"
)
BROKERAGE = _any(r"phi moi gioi", r"tien moi gioi", r"hoa hong moi gioi", r"brokerage",
                 r"broker(?:'s)? fee", r"agent fee", r"recruitment fee")  # fmt: skip
SERVICE_FEE = _any(r"tien dich vu", r"phi dich vu", r"service fee", r"service charge",
                   r"tron goi", r"package", r"all[- ]in", r"tong chi phi", r"total cost",
                   r"chi phi", r"\bfee\b", r"\bcost\b")  # fmt: skip
UNREALISTIC = _any(
    r"viec nhe(?:,)? luong cao", r"(?:luong|thu nhap) (?:hang|may|vai) tram trieu",
    r"easy (?:job|work)s?,? (?:with )?high (?:pay|salary|income)", r"light work,? high pay",
    r"(?:lam giau|kiem tien) nhanh", r"easy money",
)  # fmt: skip
AT_HOME = _any(r"tai nha", r"online", r"nhap lieu", r"at home", r"from home", r"data entry",
               r"typing", r"tren dien thoai", r"on your phone")  # fmt: skip
#: the deposit an employer pays, or the lawful EPS deposit at the state bank
LAWFUL_DEPOSIT = _any(r"ky quy", r"ngan hang chinh sach", r"nhcsxh", r"employer pays",
                      r"cong ty (?:tra|chiu)")  # fmt: skip
#: paid once the worker is hired or paid: not money up front
PAID_AFTER = _any(r"(?:tra|thu|nop) sau khi (?:nhan luong|ky|co viec|di lam|nhan viec|xuat canh)",
                  r"after (?:you )?(?:get paid|signing|sign|start|are hired|arrive)")  # fmt: skip
DAY_PAY_LIMIT = 500_000  # VND a day at home: the S50 lure
#: "more than about twice" the top of the cited band for the work and the country (tuned on
#: the dev split: 2.0 missed postings the labellers saw as twice the band)
PAY_TIMES = 1.7
#: desk work in the border zones at this pay or more (800 USD a month)
DESK_LURE_VND = 800 * RATES["USD"]
#: unskilled domestic work paid more than this many statutory minimum wages (region I)
UNSKILLED_TIMES = 4
NO_EXPERIENCE = _any(r"khong can kinh nghiem", r"chua co kinh nghiem", r"no experience",
                     r"without experience", r"khong yeu cau kinh nghiem")  # fmt: skip
