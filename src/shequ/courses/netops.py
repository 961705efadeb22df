"""网络维护：可用性统计（2019 检查指标"站点无法访问"）、IP 规划与设备台账检查。

"站点无法访问"（国办秘函〔2019〕19号）：监测 1 周，每天间隔性访问 20 次以上，超过（含）15 秒
网站仍打不开的次数累计占比超过（含）5%，即单项否决。这里把"没有打开"（超时、非 200 状态）和
"打开用时 ≥ 15 秒"都算作一次失败。

内网地址应在 RFC 1918 私有地址段内（10/8、172.16/12、192.168/16）。注意 Python 的
`is_private` 把文档专用地址等也算作 private，所以这里按 RFC 1918 明确判断。
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

import pandas as pd

from . import datasets

FAIL_SECONDS = 15.0  # 超过（含）15 秒
MAX_FAIL_SHARE = 0.05  # 超过（含）5%
MIN_CHECKS_PER_DAY = 20  # 每天 20 次以上（含 20 次）
RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


# ---------------------------------------------------------------- availability

def load_monitoring(path: str | Path | None = None) -> pd.DataFrame:
    """读监测记录（默认 datasets/network/monitoring.csv）；status 按文本读，seconds 按数值读。"""
    p = path or datasets.path("network/monitoring.csv")
    df = pd.read_csv(p, dtype={"site": str, "status": str})
    df["checked_at"] = pd.to_datetime(df["checked_at"], format="%Y-%m-%d %H:%M")
    return df


def is_failure(status, seconds) -> pd.Series | bool:
    """一次访问算失败：没有打开（状态不是 200，如超时、503）或用时 ≥ 15 秒。可用于单值或整列。"""
    if isinstance(status, pd.Series):
        return (status.astype(str) != "200") | (pd.to_numeric(seconds, errors="coerce").fillna(float("inf"))
                                                 >= FAIL_SECONDS)
    try:
        secs = float(seconds)
    except (TypeError, ValueError):
        secs = float("inf")
    return str(status) != "200" or secs >= FAIL_SECONDS


def availability(log: pd.DataFrame) -> pd.DataFrame:
    """按站点统计：访问次数、失败次数、失败占比、每天最少访问次数，以及是否触发"站点无法访问"。

    返回列：site, community（若有）, checks, failures, share, min_per_day, enough_checks, veto；
    按失败占比从高到低排列。
    """
    df = log.copy()
    df["failed"] = is_failure(df["status"], df["seconds"])
    df["day"] = pd.to_datetime(df["checked_at"]).dt.date
    keys = ["site"] + (["community"] if "community" in df else [])
    g = df.groupby(keys, sort=True)
    out = g.agg(checks=("failed", "size"), failures=("failed", "sum")).reset_index()
    per_day = df.groupby(keys + ["day"]).size().groupby(level=keys).min().rename("min_per_day").reset_index()
    out = out.merge(per_day, on=keys)
    out["failures"] = out["failures"].astype(int)
    out["share"] = out["failures"] / out["checks"]
    out["enough_checks"] = out["min_per_day"] >= MIN_CHECKS_PER_DAY
    # compare in integers: failures/checks >= 5%  <=>  100*failures >= 5*checks (no float edge cases)
    out["veto"] = out["failures"] * 100 >= out["checks"] * round(MAX_FAIL_SHARE * 100)
    return out.sort_values(["share", "site"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------- IP plan

def usable_hosts(cidr: str) -> int:
    """子网可分配给主机的地址数：去掉网络地址和广播地址（/31、/32 特殊处理）。"""
    net = ipaddress.ip_network(cidr, strict=False)
    if net.prefixlen >= net.max_prefixlen - 1:
        return net.num_addresses
    return net.num_addresses - 2


def is_rfc1918(cidr: str) -> bool:
    """整个子网都在 RFC 1918 私有地址段内。"""
    net = ipaddress.ip_network(cidr, strict=False)
    return any(net.subnet_of(p) for p in RFC1918)


def load_ip_plan(path: str | Path | None = None) -> pd.DataFrame:
    return pd.read_csv(path or datasets.path("network/ip_plan.csv"), dtype=str)


def load_devices(path: str | Path | None = None) -> pd.DataFrame:
    return pd.read_csv(path or datasets.path("network/devices.csv"), dtype=str)


def _problem(file: str, key: str, rule: str, detail: str) -> dict[str, str]:
    return {"file": file, "key": key, "rule": rule, "detail": detail}


def check_ip_plan(plan: pd.DataFrame) -> pd.DataFrame:
    """检查 IP 规划：子网写法、内网须为私有地址、外网不得用私有地址、子网互相重叠、地址数不够规划终端数。

    返回列 file, key, rule, detail（key = "单位代码 网络"）。
    """
    probs: list[dict[str, str]] = []
    seen: list[tuple[ipaddress.IPv4Network, str]] = []
    for r in plan.itertuples(index=False):
        key = f"{r.unit_code} {r.network}"
        try:
            net = ipaddress.ip_network(r.subnet, strict=False)
        except ValueError:
            probs.append(_problem("ip_plan.csv", key, "bad-subnet", f"{r.subnet} 不是合法的子网写法"))
            continue
        if str(net) != r.subnet:
            probs.append(_problem("ip_plan.csv", key, "bad-subnet", f"{r.subnet} 含主机位，应写作 {net}"))
        private = is_rfc1918(r.subnet)
        if r.network == "内网" and not private:
            probs.append(_problem("ip_plan.csv", key, "not-private", f"{r.subnet} 不是 RFC 1918 私有地址"))
        if r.network == "外网" and private:
            probs.append(_problem("ip_plan.csv", key, "private-on-internet", f"{r.subnet} 是私有地址，不能用作外网地址"))
        for other, other_key in seen:
            if net.overlaps(other):
                probs.append(_problem("ip_plan.csv", key, "overlap", f"{r.subnet} 与 {other_key} {other} 重叠"))
        seen.append((net, key))
        planned = int(r.planned_hosts) if str(getattr(r, "planned_hosts", "")).isdigit() else 0
        if planned and usable_hosts(r.subnet) < planned + 1:  # +1: the gateway
            probs.append(_problem("ip_plan.csv", key, "capacity",
                                  f"{r.subnet} 可用地址 {usable_hosts(r.subnet)} 个，规划 {planned} 台终端 + 1 个网关"))
    return pd.DataFrame(probs, columns=["file", "key", "rule", "detail"])


def check_devices(devices: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """检查设备台账：同时接入内外网、IP 不在本单位该网络的子网内、IP 重复。返回列同 check_ip_plan。"""
    probs: list[dict[str, str]] = []
    subnets = {(r.unit_code, r.network): ipaddress.ip_network(r.subnet, strict=False)
               for r in plan.itertuples(index=False)}
    for r in devices.itertuples(index=False):
        if r.network not in ("内网", "外网"):
            probs.append(_problem("devices.csv", r.device_id, "dual-homed",
                                  "同一台电脑同时接入内网和外网，违反内外网分离"))
            continue
        net = subnets.get((r.unit_code, r.network))
        if net is None:
            probs.append(_problem("devices.csv", r.device_id, "no-plan", f"{r.unit_code} 没有{r.network}规划"))
        elif ipaddress.ip_address(r.ip) not in net:
            probs.append(_problem("devices.csv", r.device_id, "outside-subnet",
                                  f"{r.ip} 不在本单位{r.network} {net} 内"))
    dup = devices[devices.duplicated("ip", keep=False)]
    for ip, g in dup.groupby("ip", sort=True):
        probs.append(_problem("devices.csv", ip, "duplicate-ip", "、".join(g["device_id"]) + " 使用同一地址"))
    return pd.DataFrame(probs, columns=["file", "key", "rule", "detail"])


def inventory_summary(devices: pd.DataFrame) -> pd.DataFrame:
    """设备台账按街道、网络、类型计数（区级设备的街道记为"区本级"）。"""
    d = devices.assign(street=devices["street"].fillna("").replace("", "区本级"))
    return d.pivot_table(index="street", columns="network", values="device_id", aggfunc="count", fill_value=0)
