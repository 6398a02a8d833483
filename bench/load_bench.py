"""The bot under load against a minimal aiogram echo bot, each long-polling a local Bot API server.

    python bench/load_bench.py [--citizens 150] [--rounds 3] [--repeat 1] [--filings 20]
                               [--backends sqlite,postgresql,postgresql+worker] [--send-rate 30]

Each bot runs as its own process (`python -m bot`, `python bench/echo_bot.py`); the servers run in this
one. A backend named `X+worker` runs the bot as two processes on database X: one long-polling with
OUTBOX_SENDER=false and a delivery worker with RECEIVE_UPDATES=false (their memory and CPU are summed).
For each: start-up (launch to the first update answered, on a database already at the newest schema
unless --fresh-database), resident memory idle, bursts of first messages from N citizens at once (free
text: routed, the dialogue saved; messages/s and p50/p99 to the reply of the median burst), the process's
CPU share during that burst (the rest of the time it waits), then for the bot full filings by simulated
citizens (filings/s and p50/p99 from pressing "send" to the card reaching the agency's group), and
resident memory after the load. Beside each bot an echo bot runs on a server of its own, and each of the
bot's bursts follows the same burst to the echo bot: the ratio to echo is the median of these pairs.
The echo bot's own row (start-up, memory) comes from a run of its own. With --repeat, the medians over
the runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from bot.i18n import t  # noqa: E402
from simulator.botapi import FakeBotAPI  # noqa: E402
from storage.db import migrate  # noqa: E402

BACKENDS = ("sqlite", "postgresql", "sqlite+worker", "postgresql+worker")
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
ADMIN = 9000
GROUPS = {
    "noi-chinh": -2001,
    "thanh-tra": -2002,
    "ubkt": -2003,
    "cong-an": -2004,
    "vksnd": -2005,
    "toa-an": -2006,
    "mttq": -2007,
    "bao": -2008,
    "nhnn": -2009,
}
FIRST_TEXTS = [
    "Cán bộ địa chính phường đòi phong bì mới cấp sổ đỏ cho gia đình tôi",
    "Chủ tịch xã chỉ định thầu công trình đường giao thông cho người nhà",
    "Bị mất xe máy trước cổng chợ tối hôm qua, đề nghị công an điều tra",
    "Tôi khiếu nại quyết định thu hồi đất của ủy ban nhân dân phường",
    "Đường dây cho vay nặng lãi, tín dụng đen hoạt động công khai ở khu phố",
    "Kiến nghị sửa đường bị sụt lún trước trường tiểu học",
]
FILING_TEXTS = [
    "Cán bộ phường nhận tiền để làm nhanh hồ sơ đất đai cho một số người quen",
    "Trưởng phòng tài chính huyện tổ chức đánh bạc và cho vay lãi nặng với cán bộ",
    "Bí thư chi bộ khu phố là đảng viên nhưng ép dân góp tiền làm đường không công khai",
    "Thẩm phán tòa án nhân dân gợi ý nhận tiền để xử nhẹ vụ án của người thân tôi",
]


def rss_mb(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def person(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"Citizen {user_id}", "language_code": "vi"}


@dataclass
class Result:
    name: str
    startup_s: float = float("nan")
    rss_idle_mb: float = float("nan")
    rss_after_mb: float = float("nan")
    burst_per_s: float = float("nan")
    burst_p50_ms: float = float("nan")
    burst_p99_ms: float = float("nan")
    burst_cpu_share: float = float("nan")
    burst_cpu_ms: float = float("nan")  # CPU time the bot's processes spent per first message
    filings_per_s: float = float("nan")
    card_p50_ms: float = float("nan")
    card_p99_ms: float = float("nan")
    notes: list[str] = field(default_factory=list)
    burst_rates: list[float] = field(default_factory=list)
    # each burst's rate over the echo bot's, measured just before it in the same run (see `burst`)
    ratios: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return median(self.ratios) if self.ratios else float("nan")


async def first_answer(server: FakeBotAPI, chat_id: int, timeout: float) -> float:  # noqa: ASYNC109
    request = await server.wait_for("sendMessage", chat_id=chat_id, timeout=timeout)
    return request.at


async def one_burst(server: FakeBotAPI, users: list[int]) -> tuple[float, list[float]]:
    """First messages from `users` at once; the rate and each one's milliseconds to its reply."""
    started = time.monotonic()
    for n, user in enumerate(users):
        server.user_message(user, person(user), f"{FIRST_TEXTS[n % len(FIRST_TEXTS)]} (số {n})")
    done = await asyncio.gather(*(first_answer(server, user, 120) for user in users))
    return len(users) / (max(done) - started), [(at - started) * 1000 for at in done]


async def burst(server: FakeBotAPI, pids: list[int], citizens: int, rounds: int, result: Result,
                echo: FakeBotAPI | None = None) -> None:
    """`rounds` bursts of first messages from new citizens; the round with the median rate is reported,
    since one burst lasts a fraction of a second and a moment's slowness of the host moves it a lot.

    With `echo` (the server of an echo bot running alongside, idle meanwhile), each round begins with
    the same burst to the echo bot, and the round's ratio is taken between the two: the host's speed
    drifts over minutes (on a shared machine, by half), which a ratio between runs a minute apart takes
    for the bot's own."""
    measured: list[tuple[float, float, float, list[float]]] = []
    for r in range(rounds):
        users = [100_000 + 10_000 * r + n for n in range(citizens)]
        echo_rate = None
        if echo is not None:
            echo_rate, _ = await one_burst(echo, users)
            await asyncio.sleep(0.5)
        cpu_before = cpu_seconds(pids)
        rate, latencies = await one_burst(server, users)
        cpu = cpu_seconds(pids) - cpu_before
        elapsed = citizens / rate
        if echo_rate is not None:
            result.ratios.append(rate / echo_rate)
        measured.append((rate, cpu / elapsed, cpu * 1000 / citizens, latencies))
        await asyncio.sleep(0.5)
    result.burst_rates = [rate for rate, *_ in measured]
    result.burst_per_s, result.burst_cpu_share, result.burst_cpu_ms, latencies = \
        sorted(measured)[(len(measured) - 1) // 2]
    result.burst_p50_ms, result.burst_p99_ms = pct(latencies, 0.5), pct(latencies, 0.99)


class Filer:
    """One simulated citizen completing a whole report through the dialogue."""

    def __init__(self, server: FakeBotAPI, user: int, text: str) -> None:
        self.server, self.user, self.text = server, user, text

    def _prompts(self) -> int:
        return len(
            [
                r
                for r in self.server.calls("sendMessage", chat_id=self.user, ok=True)
                if "reply_markup" in r.params
            ]
        )

    async def _act(self, action: Any) -> None:
        seen = self._prompts()
        action()
        await self.server.wait_for(
            "sendMessage",
            lambda r: "reply_markup" in r.params,
            chat_id=self.user,
            count=seen + 1,
            timeout=120,
        )

    async def say(self, text: str) -> None:
        await self._act(lambda: self.server.user_message(self.user, person(self.user), text))

    def _latest_buttons(self) -> list[str]:
        for (chat, _), message in reversed(self.server.messages.items()):
            if chat == str(self.user) and (message.get("reply_markup") or {}).get("inline_keyboard"):
                return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        return []

    def _press(self, label: str) -> None:
        for (chat, message_id), message in reversed(self.server.messages.items()):
            if chat != str(self.user):
                continue
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        self.server.press_button(
                            self.user, message_id, person(self.user), button["callback_data"]
                        )
                        return
        last = self.server.texts(self.user)[-1:] or [""]
        raise LookupError(f"no button {label!r} for {self.user}; the bot said: {last[0][:300]}")

    async def press(self, label: str) -> None:
        await self._act(lambda: self._press(label))

    async def file(self) -> float:
        """The whole dialogue; returns milliseconds from pressing send to the card reaching a group."""
        await self.say("/start")
        await self.press(t("citizen.btn.new"))
        await self.press(t("kind.denunciation"))
        await self.press(t("citizen.btn.skip"))
        await self.say("Hạ Long")
        await self.press("Phường Hạ Long")
        await self.say("Ông X, cán bộ")
        await self.say(self.text)
        await self.say("tháng trước")
        await self.press(t("citizen.btn.no_files"))
        await self.press(t("citizen.btn.named"))
        await self.say("Trần Thị Bình")
        await self.say("0977 000 111")
        await self.say("Hồng Gai, Hạ Long")
        if t("citizen.btn.dup_file") in self._latest_buttons():  # like an earlier report: file it anyway
            await self.press(t("citizen.btn.dup_file"))
        sent = time.monotonic()
        await self.press(t("citizen.btn.send"))
        if not any("Mã tra cứu" in text for text in self.server.texts(self.user)):
            await self.press(t("citizen.btn.dup_file"))
        receipt = next((x for x in reversed(self.server.texts(self.user)) if "Mã tra cứu" in x), None)
        if receipt is None:
            raise RuntimeError(f"no receipt for {self.user}: {self.server.texts(self.user)[-1][:200]}")
        match = re.search(r"Mã tra cứu: (\S+)", receipt)
        assert match is not None
        code = match.group(1)
        card = await self.server.wait_for(
            "sendMessage", lambda r: int(r.chat_id or 0) < 0 and code in r.params.get("text", ""), timeout=300
        )
        return (card.at - sent) * 1000


async def filings(server: FakeBotAPI, count: int, result: Result) -> None:
    for agency, chat in GROUPS.items():
        server.set_chat(chat, type="supergroup", title=agency)
        server.user_message(chat, person(ADMIN), f"/bind {agency}")
    for chat in GROUPS.values():
        await server.wait_for("sendMessage", chat_id=chat, timeout=60)
    started = time.monotonic()
    filers = [
        Filer(server, 200_000 + n, f"{FILING_TEXTS[n % len(FILING_TEXTS)]} (lần {n})") for n in range(count)
    ]
    latencies = await asyncio.gather(*(f.file() for f in filers))
    elapsed = time.monotonic() - started
    result.filings_per_s = count / elapsed
    result.card_p50_ms, result.card_p99_ms = pct(list(latencies), 0.5), pct(list(latencies), 0.99)


async def create_pg_database() -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name


async def drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def profile(pids: list[int], folder: Path, name: str) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each process of the bot during the bursts only (collapsed stacks, one file each)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = []
    for n, pid in enumerate(pids):
        path = folder / f"{name}-{n}.profile.txt"
        out.append(subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking",
                                     "--format", "raw", "--output", str(path)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        print(f"profiling {name} (pid {pid}) into {path}", flush=True)
    return out


def launch(command: list[str], folder: Path, env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
    with open(folder / f"{name}.log", "w") as log:
        return subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=log)


@contextlib.asynccontextmanager
async def echo_alongside(folder: Path) -> AsyncIterator[FakeBotAPI]:
    """An echo bot on a server of its own, answering; its bursts alternate with the bot's (`burst`)."""
    async with FakeBotAPI() as server:
        env = {**os.environ, "TELEGRAM_API_URL": server.url, "BOT_TOKEN": "42:ECHO", "PYTHONUNBUFFERED": "1"}
        process = launch([sys.executable, str(ROOT / "bench" / "echo_bot.py")], folder, env, "echo-paired")
        try:
            server.user_message(1, person(1), "/start")
            await first_answer(server, 1, 120)
            yield server
        finally:
            process.terminate()
            await asyncio.to_thread(process.wait, 30)


async def run_target(name: str, args: argparse.Namespace, folder: Path) -> Result:
    result = Result(name)
    pg_name = None
    async with contextlib.AsyncExitStack() as stack:
        server = await stack.enter_async_context(FakeBotAPI())
        env = {**os.environ, "TELEGRAM_API_URL": server.url, "PYTHONUNBUFFERED": "1"}
        if name == "echo":
            command = [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
            env["BOT_TOKEN"] = "42:ECHO"
            echo = None
        else:
            echo = await stack.enter_async_context(echo_alongside(folder))
            if name.startswith("postgresql"):
                pg_name = await create_pg_database()
                database = PG_URL.rsplit("/", 1)[0] + f"/{pg_name}"
            else:
                database = f"sqlite+aiosqlite:///{folder / name.split('+')[0] / 'bot.db'}"
            command = [sys.executable, "-m", "bot", "run"]
            env.update(
                BOT_TOKEN="42:BENCH",
                DATABASE_URL=database,
                RULES_FILE=str(ROOT / "rules/quang-ninh.yaml"),
                ADMIN_IDS=str(ADMIN),
                ENCRYPTION_KEY=Fernet.generate_key().decode(),
                MESSAGES_PER_MINUTE="1000",
                TELEGRAM_MESSAGES_PER_SECOND=str(args.send_rate),
                PYTHONPATH=str(ROOT),
            )
            if not args.fresh_database:  # a restart, as in production: the schema is already current
                await migrate(database)
        server.user_message(1, person(1), "/start")
        launched = time.monotonic()
        if name.endswith("+worker"):  # long polling admits one instance: it receives, a worker sends
            processes = [launch(command, folder, {**env, "OUTBOX_SENDER": "false"}, name),
                         launch(command, folder, {**env, "RECEIVE_UPDATES": "false"}, f"{name}-worker")]
        else:
            processes = [launch(command, folder, env, name)]
        pids = [process.pid for process in processes]
        try:
            result.startup_s = await first_answer(server, 1, 120) - launched
            await asyncio.sleep(3)
            result.rss_idle_mb = rss_mb(pids)
            if profilers := profile(pids, folder, name) if args.profile else []:
                await asyncio.sleep(1)  # py-spy attaches before the burst begins
            await burst(server, pids, args.citizens, args.rounds, result, echo)
            for profiler in profilers:  # py-spy writes its file when interrupted
                profiler.send_signal(signal.SIGINT)
                await asyncio.to_thread(profiler.wait, 60)
            if name != "echo" and args.filings:
                await filings(server, args.filings, result)
            await asyncio.sleep(2)
            result.rss_after_mb = rss_mb(pids)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    await asyncio.to_thread(process.wait, 30)
                except subprocess.TimeoutExpired:
                    process.kill()
            if pg_name:
                await drop_pg_database(pg_name)
    return result


def report(results: list[Result], args: argparse.Namespace) -> None:
    echo = next((r for r in results if r.name == "echo"), None)
    print(
        f"\n{args.citizens} first messages at once (median of {args.rounds} bursts); {args.filings} full "
        f"filings; bot sends at most {args.send_rate:g} messages/s; "
        f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}\n"
    )
    print(
        "| bot | start-up to first answer (s) | RSS idle (MB) | RSS after load (MB) | first messages/s "
        "| ratio to echo | p50 / p99 to reply (ms) | CPU share in burst | CPU ms a message | filings/s "
        "| send→card p50 / p99 (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = "1.00" if r is echo else f"{r.ratio:.2f}" if r.ratios else "-"
        rss_ratio = f" ({r.rss_after_mb / echo.rss_after_mb:.1f}×)" if echo and r is not echo else ""
        filing = f"{r.filings_per_s:.2f}" if r.filings_per_s == r.filings_per_s else "-"
        card = f"{r.card_p50_ms:.0f} / {r.card_p99_ms:.0f}" if r.card_p50_ms == r.card_p50_ms else "-"
        print(
            f"| {r.name} | {r.startup_s:.2f} | {r.rss_idle_mb:.0f} | {r.rss_after_mb:.0f}{rss_ratio} "
            f"| {r.burst_per_s:.0f} | {ratio} | {r.burst_p50_ms:.0f} / {r.burst_p99_ms:.0f} "
            f"| {r.burst_cpu_share:.2f} | {r.burst_cpu_ms:.2f} | {filing} | {card} |"
        )


def summary(runs: list[list[Result]]) -> None:
    """Medians over the runs; each ratio is the median of a run's rounds, each taken against the echo
    bot's burst just before it."""
    print(f"\nMedians of {len(runs)} runs:\n")
    print("| bot | start-up (s) | first messages/s | ratio to echo (range of runs) | CPU ms a message |")
    print("|---|---:|---:|---:|---:|")
    for name in [r.name for r in runs[0]]:
        mine = [next(r for r in run if r.name == name) for run in runs]
        ratios = [1.0 if name == "echo" else m.ratio for m in mine]
        print(f"| {name} | {median([m.startup_s for m in mine]):.2f} "
              f"| {median([m.burst_per_s for m in mine]):.0f} | {median(ratios):.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f}) | {median([m.burst_cpu_ms for m in mine]):.2f} |")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--citizens", type=int, default=150,
                        help="citizens sending their first message at once in each burst")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bursts of first messages per bot (new citizens each); the median is reported")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the echo bot and the bots this many times in turn, then print the medians")
    parser.add_argument("--filings", type=int, default=20,
                        help="simulated citizens filing whole reports at once after the bursts (0: none)")
    parser.add_argument("--backends", default="sqlite,postgresql,postgresql+worker",
                        help="databases to run the bot on, of " + ", ".join(BACKENDS) + "; X+worker: two "
                             "processes (polling, delivery); PostgreSQL at TEST_POSTGRES_URL")
    parser.add_argument("--send-rate", type=float, default=30.0,
                        help="TELEGRAM_MESSAGES_PER_SECOND for the bot: 30 is Telegram's limit, which caps "
                             "the burst at about 30 answers a second; 1000 measures what the bot can do")
    parser.add_argument("--fresh-database", action="store_true",
                        help="start the bot on an empty database (its first launch, migrations included) "
                             "instead of one already at the newest revision (every later start)")
    parser.add_argument("--profile", metavar="DIR",
                        help="sample each process during the bursts with py-spy (installed separately) and "
                             "keep the collapsed stacks in DIR")
    args = parser.parse_args()
    unknown = [b for b in args.backends.split(",") if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend {', '.join(unknown)}: use {', '.join(BACKENDS)}")
    if any(b.startswith("postgresql") for b in args.backends.split(",")):
        try:
            conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"), timeout=10)
            await conn.close()
        except (OSError, asyncpg.PostgresError) as exc:
            parser.error(f"PostgreSQL at {PG_URL} cannot be reached ({exc}); start it, set "
                         "TEST_POSTGRES_URL, or pass --backends sqlite")
    runs: list[list[Result]] = []
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        for run in range(args.repeat):
            results: list[Result] = []
            for name in ["echo", *args.backends.split(",")]:
                folder = Path(args.profile or tmp) / f"run{run}"
                (folder / name.split("+")[0]).mkdir(parents=True, exist_ok=True)
                print(f"running {name}…", flush=True)
                try:
                    results.append(await run_target(name, args, folder))
                except BaseException:
                    logged = folder / f"{name}.log"
                    if logged.exists():
                        log = logged.read_text(errors="replace").splitlines()
                        print(f"{name} failed; the end of its log:", *log[-40:], sep="\n", file=sys.stderr)
                    raise
                report(results, args)
            runs.append(results)
    if len(runs) > 1:
        summary(runs)


if __name__ == "__main__":
    asyncio.run(main())
