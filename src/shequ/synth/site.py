"""Seeded generator of the synthetic snapshot of "明湖区社区综合服务网" and the district network data.

全部为合成数据。网站是区政府门户网站上的一个栏目/子站（《政府网站发展指引》：街道原则上不单独开设
政府网站），页面 <head> 按网页设计规范写元数据。在固定位置注入问题，写进 site/truth.csv，
巡检工具（shequ.audit）必须恰好找出这些问题。外部链接指向虚构主机（*.example.gov.cn），从不访问。

网络数据（network/）：设备台账、IP 规划（内网用 RFC 1918 私有地址，外网用 RFC 5737 文档专用地址）、
一周的可用性监测记录；问题写进 network/faults.csv。

手机号只用工信部 2023 年 3 月网号分配表中未列出的号段（154、163、169）加 0000 段，身份证号用虚构
地址码 990102，以免与真实号码重合。

The fault plan is fixed; the seed only varies filler (times, counts, wording).
"""
from __future__ import annotations

import csv
import io
import ipaddress
import random
import struct
import zipfile
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path

from .. import idcard, paths
from ..courses.datasets import SITE_SNAPSHOT_DATE
from ..site.audit import mask_id, mask_phone
from ..site.pages import CSS, NAV, SITE_NAME, article_body, esc, page_html, rel
from . import district as synth

SEED = synth.SEED
SNAPSHOT_DATE = SITE_SNAPSHOT_DATE  # 监测时间点
SITE_PREFIX = "site/www/"
MONITOR_START = datetime(2026, 3, 9)  # one week before the snapshot
CHECKS_PER_DAY = 20  # "每天间隔性访问 20 次以上"


# ---------------------------------------------------------------- small helpers


def id_number(birth: date, seq: int) -> str:
    """A checksum-valid synthetic ID number with the fictional address code 990102."""
    return idcard.make(synth.DISTRICT_CODE, birth, seq)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG; zlib level 0 so the bytes never depend on the zlib build."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height, 0)) + chunk(b"IEND", b""))


def _csv(rows: list[dict], fields: list[str] | None = None) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields or list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _stamp(d: date, rng: random.Random) -> datetime:
    return datetime(d.year, d.month, d.day, rng.randint(8, 17), rng.choice((0, 5, 10, 15, 20, 30, 40, 45, 50)))


# ---------------------------------------------------------------- the site

class _Site:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.pages: dict[str, str] = {}
        self.listing: dict[str, list[tuple[str, str, datetime | None]]] = {}  # column -> articles
        self.truth: list[dict[str, str]] = []
        self.coms = synth.communities()

    def fault(self, page: str, rule: str, detail: str) -> None:
        self.truth.append({"page": page, "rule": rule, "detail": detail})

    def article(self, path: str, column_dir: str, column: str, title: str, when: datetime | str | None,
                source: str, paragraphs: list[str], extra: str = "") -> None:
        shown = when if isinstance(when, datetime) else None
        self.pages[path] = page_html(path, title, article_body(title, shown, source, paragraphs, extra),
                                     column=column, pubdate=when, source=source, article=True)
        self.listing.setdefault(column_dir, []).append((path, title, shown))

    def column_index(self, col_dir: str, name: str, description: str,
                     children: list[tuple[str, str]] = (), extra_links: list[tuple[str, str]] = ()) -> None:
        path = col_dir + "index.html"
        # newest first; undated pages last
        items = sorted(self.listing.get(col_dir, []), key=lambda a: a[2] or datetime.min, reverse=True)
        body = [f"<h1>{esc(name)}</h1>", f"<p>{esc(description)}</p>"]
        if children:
            body.append("<h2>子栏目</h2>")
            body.append("<ul>" + "".join(f"<li><a href=\"{esc(rel(path, c + 'index.html'))}\">{esc(n)}</a></li>"
                                         for c, n in children) + "</ul>")
        if items or extra_links:
            body.append("<h2>信息列表</h2>")
            lis = [f"<li><a href=\"{esc(rel(path, p))}\">{esc(t)}</a>"
                   + (f" <span class=\"meta\">{w:%Y-%m-%d}</span>" if w else "") + "</li>" for p, t, w in items]
            lis += [f"<li><a href=\"{esc(href)}\">{esc(t)}</a></li>" for href, t in extra_links]
            body.append("<ul>" + "".join(lis) + "</ul>")
        elif not children:
            body.append("<p>本栏目暂无内容。</p>")
        self.pages[path] = page_html(path, name, "\n".join(body), column=name, description=description)

    # -- columns ------------------------------------------------------------

    def news(self) -> None:
        as_of = SNAPSHOT_DATE
        rng = self.rng
        activities = ["垃圾分类宣传活动", "老年人防范电信诈骗讲座", "消防安全应急演练", "志愿者清洁家园行动",
                      "便民义诊服务", "邻里节文艺汇演", "青少年科普体验活动", "平安社区夜间巡逻",
                      "健康知识讲座", "法律咨询进社区", "文明养犬宣传", "楼道杂物清理行动"]
        # latest PubDate per 街道动态 sub-column: None = fresh (random recent date)
        latest = {1: None, 2: as_of - timedelta(days=15), 3: as_of - timedelta(days=14), 4: date(2026, 2, 21),
                  5: None, 6: date(2026, 1, 15), 7: None, 8: date(2026, 2, 9)}
        streets = synth.STREETS
        subcols = []
        for s, (street, names) in enumerate(streets, start=1):
            col_dir = f"news/s{s:02d}/"
            col = f"{street}动态"
            subcols.append((col_dir, col))
            top = latest[s] or as_of - timedelta(days=rng.randint(1, 6))
            if (as_of - top).days > 14:  # s03 sits exactly on the 14-day line and is still fresh
                self.fault(col_dir + "index.html", "column-stale", f"最新发布 {top:%Y-%m-%d}，超过 2 周未更新")
            n = 4
            d = top
            for i in range(1, n + 1):
                path = f"{col_dir}a{i:02d}.html"
                com = names[(i - 1) % len(names)]
                act = rng.choice(activities)
                when = _stamp(d, rng)
                title = f"{com}开展{act}"
                paras = [f"{when.month}月{when.day}日，{com}居委会联合辖区单位开展{act}，"
                         f"共有{rng.randint(18, 90)}名居民参加。",
                         "活动中，社区工作者和志愿者向居民发放宣传资料、解答疑问，并收集居民对社区服务的意见建议。"]
                extra = ""
                img = f"images/p{(s + i) % 8 + 1:02d}.png"
                if i == 1 or i == 2:
                    extra = f"<p><img src=\"{rel(path, img)}\" alt=\"{esc(com + act)}现场\"></p>"
                # injected faults ----------------------------------------------------------
                if s == 1 and i == 1:
                    extra = f"<p><img src=\"{rel(path, img)}\"></p>"
                    self.fault(path, "img-alt", rel(path, img))
                if s == 3 and i == 2:
                    extra = f"<p><img src=\"{rel(path, img)}\"></p>"
                    self.fault(path, "img-alt", rel(path, img))
                if s == 5 and i == 2:
                    bad = rel(path, "images/p99.png")
                    extra = f"<p><img src=\"{bad}\" alt=\"{esc(com)}活动合影\"></p>"
                    self.fault(path, "link-broken", bad)
                if s == 7 and i == 1:
                    extra += "\n<h3>活动回顾</h3>\n<p>本次活动得到辖区共建单位的大力支持。</p>"
                    self.fault(path, "heading-order", "h1→h3")
                if s == 2 and i == 1:
                    phone = "15400001234"
                    paras.append(f"报名请联系志愿者队长刘先生，电话{phone}。")
                    self.fault(path, "phone-exposed", mask_phone(phone))
                if s == 6 and i == 2:
                    paras.append("咨询电话：169 0000 4321（社区网格员）。")
                    self.fault(path, "phone-exposed", mask_phone("16900004321"))
                if s == 1 and i == 3:
                    when = None
                    self.fault(path, "pubdate", "缺少 PubDate")
                self.article(path, col_dir, col, title, when, f"{street}{com}居委会", paras, extra)
                d = d - timedelta(days=rng.randint(5, 20))
            self.column_index(col_dir, col, f"{street}所辖社区的工作动态。")
        self.column_index("news/", "社区动态", "各街道、社区的工作动态。", children=subcols)

    def notices(self) -> None:
        rng = self.rng
        col_dir, col = "notices/", "通知公告"
        src = "明湖区民政局"
        items = [
            (date(2026, 3, 9), "关于开展社区网格信息季度核查的通知",
             ["各街道办事处、社区居委会：", "为保证社区基础信息准确，现定于3月下旬开展网格信息季度核查，"
              "请各社区按照“最小必要”原则核对信息，核查中不得要求居民提供与核查无关的个人信息。"]),
            (date(2026, 3, 2), "关于社区服务站春季办公时间调整的通知",
             ["自3月2日起，各社区服务站办公时间调整为：周一至周五上午8:30—12:00，下午14:00—17:30。",
              "周六上午安排工作人员值班，办理急需事项。"]),
            (date(2026, 2, 26), "2026年2月最低生活保障拟确认对象公示", []),
            (date(2026, 2, 10), "关于做好春节期间社区安全防范工作的通知",
             ["春节将至，请各社区加强燃气、用电和消防安全宣传，做好独居老人走访。"]),
            (date(2026, 1, 20), "2026年1月临时救助审批结果公示", []),
            (date(2025, 12, 18), "关于征集社区“微实事”项目的公告",
             ["现面向辖区居民征集社区“微实事”项目建议，征集时间为12月18日至次年1月18日。"]),
            (date(2025, 11, 5), "关于开展燃气安全入户检查的通知",
             ["区住建局将会同燃气公司于11月开展入户检查，检查人员统一佩戴工作证。"]),
            (date(2025, 9, 22), "关于社区综合服务网栏目调整的公告",
             ["为提高信息发布质量，本站对无力保障的栏目进行整合，相关内容并入“社区动态”栏目。"]),
        ]
        for i, (d, title, paras) in enumerate(items, start=1):
            path = f"{col_dir}n{i:02d}.html"
            when = _stamp(d, rng)
            extra = ""
            if title.endswith("拟确认对象公示"):
                # 公示 with full ID numbers: the classic leak (names already masked)
                people = [("王*", date(1956, 4, 12), 31, 2), ("陈*", date(1962, 10, 3), 18, 1),
                          ("赵**", date(1949, 7, 28), 55, 3)]
                rows = []
                for name, born, seq, n in people:
                    num = id_number(born, seq)
                    rows.append(f"<tr><td>{esc(name)}</td><td>{num}</td><td>{n}</td></tr>")
                    self.fault(path, "id-exposed", mask_id(num))
                paras = ["经本人申请、街道办事处调查核实，以下家庭拟确认为最低生活保障对象，现予公示。",
                         "公示期为7天。如有异议，请向街道民政办反映（办公电话：88123402）。"]
                extra = ("<table><thead><tr><th>申请人</th><th>公民身份号码</th><th>保障人数</th></tr></thead>"
                         "<tbody>" + "".join(rows) + "</tbody></table>")
            if title.endswith("审批结果公示"):
                rows = []
                for name, born, seq, amount in [("李*", date(1971, 3, 9), 42, 1500), ("孙*", date(1988, 12, 1), 27, 2000)]:
                    rows.append(f"<tr><td>{esc(name)}</td><td>{mask_id(id_number(born, seq))}</td>"
                                f"<td>{amount}</td></tr>")
                paras = ["以下临时救助申请已审批，现予公示（身份证号已按规定脱敏）。"]
                extra = ("<table><thead><tr><th>申请人</th><th>公民身份号码</th><th>救助金额（元）</th></tr></thead>"
                         "<tbody>" + "".join(rows) + "</tbody></table>")
            if i == 4:
                extra = "<p>详见<a href=\"n99.html\">上一期安全防范通知</a>。</p>"
                self.fault(path, "link-broken", "n99.html")
            if i == 6:
                extra = "<p><a href=\"#content\">返回顶部</a>　<a href=\"./index.html#list\">返回列表</a></p>"
            self.article(path, col_dir, col, title, when, src, paras, extra)
        self.column_index(col_dir, col, "区、街道、社区发布的通知、公告和公示。")

    def policies(self) -> None:
        rng = self.rng
        col_dir, col = "policies/", "政策文件"
        host = "mzj.minghu.example.gov.cn"
        items = [
            (date(2025, 8, 28), "明湖区社区综合服务网信息发布审核办法（试行）",
             ["第一条 为规范本站信息发布，保障信息安全，制定本办法。",
              "第二条 信息发布实行“三审”：撰稿人所在单位初审、街道（部门）负责人复审、区信息中心终审。",
              "第三条 发布内容不得含有未经脱敏的公民身份号码、手机号码等个人信息。"]),
            (date(2025, 6, 16), "明湖区社区工作者管理办法（试行）",
             ["本办法为培训用虚构文件，仅用于演示栏目结构。"]),
            (date(2025, 3, 3), "明湖区社区居民议事协商规则（示例）",
             ["本规则为培训用虚构文件。"]),
            (date(2024, 11, 11), "明湖区社区服务设施管理办法（示例）",
             ["本办法为培训用虚构文件。"]),
            (date(2024, 5, 20), "明湖区高龄津贴发放办法（示例）",
             ["本办法为培训用虚构文件。"]),
        ]
        self.fault(col_dir + "index.html", "column-stale", f"最新发布 {items[0][0]:%Y-%m-%d}，超过 6 个月未更新")
        for i, (d, title, paras) in enumerate(items, start=1):
            path = f"{col_dir}p{i:02d}.html"
            extra = f"<p>原文链接：<a href=\"https://{host}/zcwj/{d:%Y}/{i:02d}.html\">{esc(host)}</a></p>"
            if i == 2:
                extra = ("<h2>第一章 总则</h2>\n<h4>第一条</h4>\n<p>为加强社区工作者队伍建设，制定本办法。</p>\n"
                         + extra)
                self.fault(path, "heading-order", "h2→h4")
            self.article(path, col_dir, col, title, _stamp(d, rng), "明湖区人民政府办公室", paras, extra)
        self.column_index(col_dir, col, "区政府及部门发布的政策文件。")

    def guides(self) -> None:
        rng = self.rng
        col_dir, col = "guides/", "办事指南"
        guides = [
            ("最低生活保障申请", "《社会救助暂行办法》第九条、第十一条",
             "共同生活的家庭成员人均收入低于本地最低生活保障标准，且符合家庭财产状况规定。",
             "书面申请书；家庭成员身份证件、户口簿；收入及财产情况说明。",
             "提出书面申请 → 街道办事处调查核实 → 在社区公示 → 区民政局审核确认。"),
            ("临时救助申请", "《社会救助暂行办法》第四十七条、第四十八条",
             "因火灾、交通事故等意外事件或家庭成员突发重大疾病等，基本生活暂时出现严重困难。",
             "书面申请书；身份证件；相关证明材料。",
             "提出申请 → 街道办事处审核、公示 → 区民政局审批（金额较小的可委托街道审批）。"),
            ("高龄津贴申领", "《明湖区高龄津贴发放办法》（示例，虚构）",
             "具有本区户籍、年满80周岁的老年人。", "身份证件；户口簿；本人银行账户信息。",
             "社区受理 → 街道审核 → 区民政局确认 → 按月发放。"),
            ("老年人优待证办理", "《明湖区老年人优待办法》（示例，虚构）",
             "年满60周岁的本区常住老年人。", "身份证件；近期免冠照片一张。", "社区受理 → 街道制证 → 社区发放。"),
            ("就业困难人员认定", "《明湖区就业援助办法》（示例，虚构）",
             "法定劳动年龄内、有劳动能力和就业愿望的本区居民，符合就业困难情形。",
             "身份证件；就业创业证；相关证明材料。", "社区受理 → 街道初审 → 区人社局认定。"),
            ("居民医保参保登记", "《明湖区城乡居民基本医疗保险实施办法》（示例，虚构）",
             "未参加职工医保的本区居民。", "身份证件；户口簿。", "社区受理 → 登记 → 缴费。"),
            ("社区活动场地预约", "《明湖区社区服务设施管理办法》（示例，虚构）",
             "辖区居民、社会组织开展公益活动。", "预约申请表。", "线上或窗口预约 → 社区确认。"),
            ("残疾人证申领咨询", "《明湖区残疾人服务办法》（示例，虚构）",
             "本区户籍的残疾人。", "身份证件；户口簿；近期免冠照片。", "社区受理咨询 → 街道残联初审 → 区残联办理。"),
        ]
        for i, (name, basis, cond, docs, flow) in enumerate(guides, start=1):
            path = f"{col_dir}g{i:02d}.html"
            d = date(2025, 4, 1) + timedelta(days=rng.randint(0, 300))
            when: datetime | str = _stamp(d, rng)
            sections = {"事项名称": name, "设定依据": basis, "申请条件": cond, "办理材料": docs,
                        "办理地点": "各社区党群服务中心一站式服务窗口",
                        "办理时间": "周一至周五 8:30—12:00，14:00—17:30（法定节假日除外）",
                        "联系电话": f"社区服务站 8812{3400 + i:04d}；明湖区政务服务热线 12345",
                        "办理流程": flow}
            if i == 2:
                for k in ("设定依据", "办理时间"):
                    del sections[k]
                self.fault(path, "guide-elements", "缺少：设定依据、办理时间")
            if i == 6:
                del sections["联系电话"]
                self.fault(path, "guide-elements", "缺少：联系电话")
            if i == 3:
                when = f"{d.year}/{d.month}/{d.day} 9:00"
                self.fault(path, "pubdate", f"PubDate 格式不符：{when}")
            extra = "\n".join(f"<h2>{k}</h2>\n<p>{esc(v)}</p>" for k, v in sections.items())
            self.article(path, col_dir, col, f"办事指南：{name}", when, "明湖区政务服务中心",
                         [], extra)
        self.column_index(col_dir, col, "社区可受理、代办事项的办事指南。",
                          extra_links=[("g09.html", "办事指南：残疾人两项补贴申请")])
        self.fault(col_dir + "index.html", "link-broken", "g09.html")

    def messages(self) -> None:
        rng = self.rng
        col_dir, col = "messages/", "互动留言"
        # (posted, answered after n days or None, question title, user text (trusted=False), special)
        msgs = [
            (date(2026, 3, 3), 2, "楼道灯坏了什么时候修？", "3号楼2单元楼道灯坏了一周，晚上上下楼很不方便。", None),
            (date(2025, 11, 20), None, "小区停车位划线的问题", "小区里乱停车严重，能否统一划线管理？", None),
            (date(2026, 2, 14), 3, "账号过期提示", "我打开网页时弹出提示：", "script"),
            (date(2026, 2, 2), 1, "网页显示乱码", "留言页面显示<b>乱码</b>，文字前后有尖括号，请处理。", None),
            (date(2026, 1, 25), 4, "低保申请进度", "我的身份证号是{id}，想问申请进度。", "id"),
            (date(2025, 12, 28), 2, "垃圾清运时间", "垃圾清运车每天几点来？早上太吵了。", None),
            (date(2026, 2, 20), 2, "老年人优待证办理", "我父亲75岁，办理优待证要带什么？请回电：{phone}", "phone"),
            (date(2025, 10, 5), None, "健身器材损坏", "小广场的健身器材坏了两个月了，存在安全隐患。", None),
            (date(2026, 1, 8), 5, "补贴领取", "看到有人转发领取补贴的链接：", "js"),
            (date(2025, 9, 12), 6, "社区活动室开放时间", "活动室周末开放吗？", None),
            (date(2025, 12, 16), None, "宠物扰民", "邻居家的狗晚上一直叫。", None),
            (date(2026, 3, 12), None, "电梯加装进展", "我们楼加装电梯的事情现在到哪一步了？", None),
        ]
        for i, (posted_d, after, title, text, special) in enumerate(msgs, start=1):
            path = f"{col_dir}m{i:02d}.html"
            posted = _stamp(posted_d, rng)
            user = esc(text)
            if special == "script":
                user += "<script>alert(\"您的账号已过期，请重新登录\")</script>"  # stored unescaped: the fault
                self.fault(path, "script-unescaped", "<script> 元素")
            if special == "js":
                user += "<a href=\"javascript:alert(1)\">点击领取补贴</a>"
                self.fault(path, "script-unescaped", "javascript: 链接")
            if special == "id":
                num = id_number(date(1952, 3, 15), 2)
                user = esc(text.format(id=num))
                self.fault(path, "id-exposed", mask_id(num))
            if special == "phone":
                full = "16300005678".translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
                user = esc(text.format(phone=full))
                self.fault(path, "phone-exposed", mask_phone("16300005678"))
            if after is None and posted_d < date(2025, 12, 16):
                self.fault(path, "message-unanswered", f"留言时间 {posted_d:%Y-%m-%d}，超过 3 个月未回应")
            asker = rng.choice(synth.SURNAMES) + "**"
            stamp = f"{posted:%Y-%m-%d %H:%M}"
            body = [f"<h1>留言：{esc(title)}</h1>",
                    "<section class=\"message\">", "<h2>留言内容</h2>",
                    f"<p class=\"meta\">留言人：{esc(asker)}　留言时间：<time class=\"posted\" "
                    f"datetime=\"{posted:%Y-%m-%dT%H:%M}\">{stamp}</time></p>",
                    f"<div class=\"user-content\"><p>{user}</p></div>", "</section>",
                    "<section class=\"reply\">", "<h2>答复</h2>"]
            if after is None:
                body.append("<p>待答复</p>")
            else:
                replied = _stamp(posted_d + timedelta(days=after), rng)
                body.append(f"<p class=\"meta\">答复单位：社区居委会　答复时间：<time class=\"replied\" "
                            f"datetime=\"{replied:%Y-%m-%dT%H:%M}\">{replied:%Y-%m-%d %H:%M}</time></p>")
                body.append("<p>您好，您反映的问题已收悉，社区已安排专人处理，感谢您对社区工作的支持。</p>")
            body.append("</section>")
            self.pages[path] = page_html(path, f"留言：{title}", "\n".join(body), column=col,
                                         pubdate=posted, source="网民留言", article=True)
            self.listing.setdefault(col_dir, []).append((path, f"留言：{title}", posted))
        self.column_index(col_dir, col, "居民咨询、建议及答复。")

    def topics(self) -> None:
        rng = self.rng
        subs = [("topics/t01/", "文明城市创建专栏"), ("topics/t02/", "老年人服务专栏"), ("topics/t03/", "平安社区建设专栏")]
        for i, (d, title) in enumerate([(date(2026, 2, 6), "文明城市创建倡议书"),
                                        (date(2025, 12, 12), "文明城市创建“十不”行为"),
                                        (date(2025, 10, 30), "文明城市创建志愿服务招募")], start=1):
            path = f"topics/t01/a{i:02d}.html"
            img = rel(path, f"images/p{i:02d}.png")
            alt = "" if i == 1 else f" alt=\"{esc(title)}配图\""
            if i == 1:
                self.fault(path, "img-alt", img)
            self.article(path, "topics/t01/", subs[0][1], title, _stamp(d, rng), "明湖区文明办",
                         ["文明城市创建，人人参与、人人共享。"], f"<p><img src=\"{img}\"{alt}></p>")
        for col_dir, name in subs:
            self.column_index(col_dir, name, f"{name}。")
            if col_dir != "topics/t01/":
                self.fault(col_dir + "index.html", "column-blank", "栏目无内容")
        self.column_index("topics/", "专题专栏", "专题专栏。", children=subs)

    def home_and_about(self) -> None:
        arts = [a for col in self.listing.values() for a in col if a[2]]
        latest = sorted(arts, key=lambda a: a[2], reverse=True)[:8]
        body = [f"<h1>{esc(SITE_NAME)}</h1>", "<h2>最新信息</h2>",
                "<ul>" + "".join(f"<li><a href=\"{esc(p)}\">{esc(t)}</a> <span class=\"meta\">{w:%Y-%m-%d}</span></li>"
                                 for p, t, w in latest) + "</ul>",
                "<h2>栏目导航</h2>",
                "<ul>" + "".join(f"<li><a href=\"{esc(h)}\">{esc(n)}</a></li>" for h, n in NAV[1:]) + "</ul>"]
        self.pages["index.html"] = page_html("index.html", SITE_NAME, "\n".join(body))
        about = [
            "<h1>关于本站</h1>",
            "<p>明湖区社区综合服务网是明湖区人民政府门户网站上的社区服务子站，由区信息中心统一建设，"
            "各街道、社区负责本单位栏目的内容更新。本站为培训用合成数据。</p>",
            "<h2>无障碍说明</h2>",
            "<p>本站图片提供替代文本，页面标题按层级组织，支持键盘浏览。如遇使用障碍，请联系我们。</p>",
            "<h2>联系我们</h2>",
            "<p>明湖区信息中心　办公电话：88123400　电子邮箱："
            "<a href=\"mailto:xxzx@minghu.example.gov.cn\">xxzx@minghu.example.gov.cn</a></p>",
            "<p>相关链接：<a href=\"https://mzj.minghu.example.gov.cn/\">明湖区民政局</a>　"
            "<a href=\"https://zwfw.minghu.example.gov.cn/\">明湖区政务服务网</a>　"
            "<a href=\"notices/\">通知公告</a>　<a href=\"guides/#content\">办事指南</a></p>",
        ]
        self.pages["about.html"] = page_html("about.html", "关于本站", "\n".join(about))

    def build(self) -> None:
        self.news()
        self.notices()
        self.policies()
        self.guides()
        self.messages()
        self.topics()
        self.home_and_about()


def _truth_order(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return sorted(rows, key=lambda r: (r["page"], r["rule"], r["detail"]))


def site_files(seed: int = SEED) -> dict[str, str | bytes]:
    """The website snapshot (under site/www/) and site/truth.csv."""
    s = _Site(seed)
    s.build()
    stale = [r for r in s.truth if r["rule"] == "column-stale"]
    if len(stale) >= 5:  # the snapshot crosses the 2019 veto line on purpose
        s.fault("", "column-stale-total", f"{len(stale)} 个栏目未按期更新（超过（含）5 个即单项否决）")
    out: dict[str, str | bytes] = {SITE_PREFIX + p: t for p, t in sorted(s.pages.items())}
    out[SITE_PREFIX + "static/site.css"] = CSS
    colours = [(11, 79, 138), (46, 125, 50), (198, 40, 40), (245, 124, 0), (106, 27, 154),
               (0, 131, 143), (93, 64, 55), (84, 110, 122)]
    for i, rgb in enumerate(colours, start=1):
        out[SITE_PREFIX + f"images/p{i:02d}.png"] = png(32, 24, rgb)
    out["site/truth.csv"] = _csv(_truth_order(s.truth), ["page", "rule", "detail"])
    return out


# ---------------------------------------------------------------- network

def network_files(seed: int = SEED) -> dict[str, str]:
    """devices.csv, ip_plan.csv, monitoring.csv and faults.csv under network/."""
    rng = random.Random(seed + 1)
    coms = synth.communities()
    plan: list[dict] = []
    devices: list[dict] = []
    faults: list[dict] = []
    mac_n = [0]

    def add_plan(level, code, unit, network, subnet, vlan, purpose, planned):
        net = ipaddress.ip_network(subnet, strict=False)
        plan.append({"level": level, "unit_code": code, "unit": unit, "network": network, "subnet": subnet,
                     "gateway": str(net.network_address + 1), "vlan": vlan, "planned_hosts": planned,
                     "purpose": purpose})
        return net

    def add_device(code, unit, street, network, kind, ip, location, year):
        mac_n[0] += 1
        m = mac_n[0]
        devices.append({"device_id": f"D{len(devices) + 1:04d}", "unit_code": code, "unit": unit,
                        "street": street, "network": network, "type": kind, "ip": ip,
                        "mac": f"02:99:01:{m >> 8 & 255:02x}:{m & 255:02x}:{rng.randrange(256):02x}",
                        "location": location, "purchase_year": year,
                        "status": "在用" if rng.random() > 0.06 else "待报废"})
        return devices[-1]

    # 区信息中心：中心机房（网站、应用、邮件服务器）
    net = add_plan("区", synth.DISTRICT_CODE, "明湖区信息中心", "内网", "10.99.0.0/24", 100, "电子政务内网核心", 120)
    for k, (kind, loc) in enumerate([("路由器", "中心机房"), ("核心交换机", "中心机房"), ("防火墙", "中心机房"),
                                     ("应用服务器", "中心机房"), ("邮件服务器", "中心机房")], start=1):
        add_device(synth.DISTRICT_CODE, "明湖区信息中心", "", "内网", kind, str(net.network_address + k), loc, 2021)
    net = add_plan("区", synth.DISTRICT_CODE, "明湖区信息中心", "外网", "192.0.2.0/28", 900,
                   "互联网出口（区政府网站、社区综合服务网）", 8)
    for k, kind in enumerate(["路由器", "防火墙", "网站服务器"], start=1):
        add_device(synth.DISTRICT_CODE, "明湖区信息中心", "", "外网", kind, str(net.network_address + k), "中心机房", 2022)

    by_street: dict[str, list] = {}
    for c in coms:
        by_street.setdefault(c.street_code, []).append(c)
    ext_idx = 0
    for s, (street_code, cs) in enumerate(by_street.items(), start=1):
        street = cs[0].street_name
        net = add_plan("街道", street_code, f"{street}办事处", "内网", f"10.99.{s}.192/26", 100 + s, "街道办公内网", 40)
        kinds = ["路由器", "交换机"] + ["办公电脑"] * rng.randint(3, 5) + ["网络打印机"]
        for k, kind in enumerate(kinds, start=1):
            add_device(street_code, f"{street}办事处", street, "内网", kind, str(net.network_address + k),
                       "街道办公楼", rng.randint(2016, 2025))
        net = add_plan("街道", street_code, f"{street}办事处", "外网", f"198.51.100.{128 + (s - 1) * 8}/29",
                       900 + s, "街道互联网接入", 4)
        for k, kind in enumerate(["路由器", "外网电脑", "电子显示屏"], start=1):
            add_device(street_code, f"{street}办事处", street, "外网", kind, str(net.network_address + k),
                       "街道办公楼", rng.randint(2016, 2025))
        for ci, c in enumerate(cs, start=1):
            code, unit = c.community_code, c.community_name
            subnet, planned = f"10.99.{s}.{(ci - 1) * 32}/27", rng.randint(10, 24)
            # injected plan faults -------------------------------------------------------------
            if unit == "石桥社区":  # /26 typed instead of .96/27: swallows 永安社区's range
                subnet = f"10.99.{s}.64/26"
                faults.append({"file": "ip_plan.csv", "key": f"{code} 内网", "rule": "overlap",
                               "detail": f"{subnet} 与 990102003003 内网 10.99.3.64/27 重叠"})
            if unit == "育才社区":  # 172.32.x is NOT in 172.16.0.0/12
                subnet = f"172.32.{s}.64/27"
                faults.append({"file": "ip_plan.csv", "key": f"{code} 内网", "rule": "not-private",
                               "detail": f"{subnet} 不是 RFC 1918 私有地址"})
            if unit == "软件园社区":  # planned growth does not fit a /28
                subnet, planned = f"10.99.{s}.32/28", 20
                faults.append({"file": "ip_plan.csv", "key": f"{code} 内网", "rule": "capacity",
                               "detail": f"{subnet} 可用地址 14 个，规划 20 台终端 + 1 个网关"})
            net = add_plan("社区", code, unit, "内网", subnet, 200 + (s * 10 + ci), "社区工作站内网", planned)
            base = ipaddress.ip_network(f"10.99.{s}.{(ci - 1) * 32}/27") if unit == "石桥社区" else net
            kinds = ["路由器", "交换机"] + ["办公电脑"] * rng.randint(2, 4) + ["网络打印机"]
            added = [add_device(code, unit, street, "内网", kind, str(base.network_address + k), "社区党群服务中心",
                                rng.randint(2015, 2025)) for k, kind in enumerate(kinds, start=1)]
            if unit == "泉水社区":
                added[-1]["ip"] = f"10.99.{s}.170"
                faults.append({"file": "devices.csv", "key": added[-1]["device_id"], "rule": "outside-subnet",
                               "detail": f"10.99.{s}.170 不在本单位内网 {subnet} 内"})
            if unit == "翠竹社区":
                added[-1]["ip"] = added[-2]["ip"]
                faults.append({"file": "devices.csv", "key": added[-1]["ip"], "rule": "duplicate-ip",
                               "detail": f"{added[-2]['device_id']}、{added[-1]['device_id']} 使用同一地址"})
            if unit == "望湖社区":
                added[-2]["network"] = "内网+外网"
                faults.append({"file": "devices.csv", "key": added[-2]["device_id"], "rule": "dual-homed",
                               "detail": "同一台电脑同时接入内网和外网，违反内外网分离"})
            pool = "203.0.113" if ext_idx < 32 else "198.51.100"
            ext = f"{pool}.{(ext_idx % 32) * 8}/29"
            ext_idx += 1
            net = add_plan("社区", code, unit, "外网", ext, 900 + (s * 10 + ci), "社区互联网接入（居民服务终端）", 3)
            for k, kind in enumerate(["路由器", "外网电脑", "电子触摸屏"], start=1):
                add_device(code, unit, street, "外网", kind, str(net.network_address + k), "社区党群服务中心",
                           rng.randint(2015, 2025))

    monitoring = _monitoring(rng, coms)
    for c in coms:
        fails = _MONITOR_PLAN.get(c.community_name, [])
        if len(fails) * 100 >= 5 * CHECKS_PER_DAY * 7:
            faults.append({"file": "monitoring.csv", "key": c.community_code, "rule": "unavailable",
                           "detail": f"{len(fails)}/{CHECKS_PER_DAY * 7} 次失败"
                                     f"（{len(fails) / (CHECKS_PER_DAY * 7):.1%}，超过（含）5%）"})
    return {"network/ip_plan.csv": _csv(plan), "network/devices.csv": _csv(devices),
            "network/monitoring.csv": monitoring,
            "network/faults.csv": _csv(faults, ["file", "key", "rule", "detail"])}


# site -> (extra failures as (status, seconds)); everything else: 0–2 random failures
_MONITOR_PLAN = {
    "太平社区": [("timeout", 30.0)] * 4 + [("503", 0.4)] * 2 + [("200", 15.0)],  # 7/140 = 5.0%: crosses (含)
    "矿区社区": [("timeout", 30.0)] * 7 + [("200", 18.6), ("200", 22.3), ("200", 16.0)] + [("503", 0.3)] * 2,
    "明珠社区": [("timeout", 30.0)] * 5 + [("503", 0.5)],  # 6/140 = 4.3%: below the line
    "柳岸社区": [("200", 14.9), ("timeout", 30.0)],  # 14.9 s is slow but opened
}


def _monitoring(rng: random.Random, coms) -> str:
    step = timedelta(minutes=24 * 60 // CHECKS_PER_DAY)
    times = [MONITOR_START + step * k for k in range(CHECKS_PER_DAY * 7)]
    rows = []
    for c in coms:
        special = _MONITOR_PLAN.get(c.community_name)
        if special is None:
            special = [("timeout", 30.0)] * rng.randint(0, 2)
        slots = rng.sample(range(len(times)), len(special))
        fail_at = dict(zip(slots, special))
        for k, t in enumerate(times):
            status, secs = fail_at.get(k, ("200", round(rng.uniform(0.2, 2.5) + (rng.random() < 0.05) * 6, 1)))
            rows.append({"checked_at": f"{t:%Y-%m-%d %H:%M}", "site": c.community_code, "community": c.community_name,
                         "status": status, "seconds": f"{secs:.1f}"})
    rows.sort(key=lambda r: (r["checked_at"], r["site"]))
    return _csv(rows)


# ---------------------------------------------------------------- exercise data

def exercise_files() -> dict[str, str | bytes]:
    """Small flat files for the graded exercises (datasets/exercises/sm-*)."""
    out: dict[str, str | bytes] = {}
    # 01 freshness: columns and page dates of a small fictional 街道 site, as of 2026-03-16
    cols = [("c01", "社区动态"), ("c02", "街道动态"), ("c03", "工作要闻"), ("c04", "党建动态"),
            ("c05", "通知公告"), ("c06", "政策文件"), ("c07", "办事指南"), ("c08", "志愿服务专栏"),
            ("c09", "居民公约")]
    out["exercises/sm-columns.csv"] = _csv([{"column_id": c, "name": n} for c, n in cols])
    pages = [("c01", "2026-03-02 16:30"), ("c01", "2026-02-20 09:00"),
             ("c02", "2026-03-01 10:00"), ("c02", "2026-02-11 15:20"),
             ("c03", "2026-03-10 08:45"), ("c03", ""), ("c03", "2026-02-27 11:00"),
             ("c04", "2026-01-20 14:00"), ("c04", ""),
             ("c05", "2025-09-16 09:30"), ("c05", "2025-07-01 10:00"),
             ("c06", "2025-08-30 17:00"), ("c06", "2025-03-12 10:00"),
             ("c07", "2024-12-01 09:00")]
    out["exercises/sm-pages.csv"] = _csv([{"page": f"{c}/a{i:02d}.html", "column_id": c, "pub_date": d}
                                          for i, (c, d) in enumerate(pages, start=1)])
    # 02 broken links: a zipped mini site (ZIP_STORED, fixed timestamps -> byte-identical)
    mini = {
        "index.html": '<h1>东门社区</h1><a href="news/a01.html">动态一</a> <a href="news/">动态</a> '
                      '<a href="guide.html#time">办事</a> <a href="https://www.minghu.example.gov.cn/">区政府</a> '
                      '<a href="mailto:dm@minghu.example.gov.cn">来信</a> <img src="img/logo.png" alt="社区标志">',
        "guide.html": '<h1>办事指南</h1><a href="index.html">首页</a> <a href="forms/apply.doc">申请表</a> '
                      '<a href="#top">返回顶部</a>',
        "news/index.html": '<h1>社区动态</h1><a href="a01.html">动态一</a> <a href="a02.html">动态二</a> '
                           '<a href="../index.html">首页</a>',
        "news/a01.html": '<h1>动态一</h1><img src="../img/a01.png" alt="活动现场"> <a href="../guide.html">办事</a> '
                         '<a href="http://old.minghu.example.gov.cn/news/1.html">旧站</a>',
        "news/a02.html": '<h1>动态二</h1><img src="../img/a02.png" alt="合影"> <a href="a03.html">下一篇</a> '
                         '<a href="./a01.html?from=a02">上一篇</a>',
        "img/logo.png": "", "img/a01.png": "",
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name in sorted(mini):
            info = zipfile.ZipInfo("site/" + name, date_time=(2026, 3, 16, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, mini[name].encode("utf-8") + (b"\n" if mini[name] else b""))
    out["exercises/sm-site.zip"] = buf.getvalue()
    # 03 leaks: page texts (synthetic numbers; 990102 address code)
    fw = {ord(c): 0xFF10 + int(c) for c in "0123456789"}
    texts = [
        ("notices/n01.html", f"低保公示：王*，公民身份号码 {id_number(date(1956, 4, 12), 31)}，保障人数 2 人。"),
        ("notices/n02.html", f"临时救助公示：李*，公民身份号码 {mask_id(id_number(date(1971, 3, 9), 42))}。"),
        ("news/a01.html", "报名请联系志愿者队长刘先生，电话15400001234。"),
        ("news/a02.html", "咨询电话：169 0000 4321；社区服务站 88123401。"),
        ("messages/m01.html", "请回电：" + "16300005678".translate(fw) + "，谢谢。"),
        ("messages/m02.html", f"我的身份证号是{id_number(date(1952, 3, 15), 2)}，想问申请进度。"),
        ("messages/m03.html", "已脱敏：163****5678，办件编号 2026031600012345678。"),
        ("guides/g01.html", "办理时间：周一至周五；政务服务热线 12345；邮编 999001。"),
    ]
    out["exercises/sm-leak-texts.csv"] = _csv([{"page": p, "text": t} for p, t in texts])
    # 04 safe notice: drafts typed by community workers (some contain characters that must be escaped)
    drafts = [
        {"title": "关于停水的通知", "pub": "2026-03-05 9:05", "source": "东门社区居委会",
         "body": "3月6日8:00-12:00 停水，请提前储水。"},
        {"title": "“邻里节”活动报名 & 志愿者招募", "pub": "2026-03-10 14:30", "source": "东门社区居委会",
         "body": "报名方式：在留言板留言 <姓名+楼号>，或到服务站登记。"},
        {"title": '消防演练通知（请勿惊慌）"紧急"', "pub": "2026-03-12 08:00", "source": "东门社区 & 物业",
         "body": "演练时会拉响警报；如有疑问请联系服务站。"},
    ]
    out["exercises/sm-notice-drafts.csv"] = _csv(drafts)
    return out


def files(seed: int = SEED) -> dict[str, str | bytes]:
    """Every generated file of this module, {path relative to datasets/: text or bytes}."""
    out = site_files(seed)
    out.update(network_files(seed))
    out.update(exercise_files())
    return dict(sorted(out.items()))


OWNED = ("site", "network")  # directories this module regenerates completely


def write(root: Path | None = None, seed: int = SEED) -> list[Path]:
    """Write the files under datasets/ (or root), removing stale files in site/ and network/."""
    root = root or paths.DATASETS
    new = files(seed)
    for d in OWNED:
        for f in sorted((root / d).rglob("*")) if (root / d).exists() else []:
            if f.is_file() and f.relative_to(root).as_posix() not in new:
                f.unlink()
    written = []
    for rel_path, content in new.items():
        p = root / rel_path
        p.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if not p.exists() or p.read_bytes() != data:
            p.write_bytes(data)
        written.append(p)
    return written


def site_dir(root: Path | None = None) -> Path:
    """The snapshot's web root (datasets/site/www)."""
    return (root or paths.DATASETS) / SITE_PREFIX.rstrip("/")


if __name__ == "__main__":
    for p in write():
        print(p)
