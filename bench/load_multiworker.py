"""Multi-worker load test of the CRM addons: bench/load.sh [requests] runs it.

Starts Odoo in prefork mode (2 HTTP workers and a cron worker) on the throwaway
database made by load.sh, seeds what the traffic needs over JSON-RPC as admin,
then sends a fixed number of JSON-RPC requests from simulated users in threads
while the crons run: leads from two web forms routed on create, tickets created
and answered, appointments booked on a few shared slots, invoices posted for
loyalty customers. It reports requests per second and latencies, then checks in
SQL that nothing was lost or done twice, and stops Odoo.

Loopback only: Odoo listens on 127.0.0.1, the database is neutralized (load.sh)
and its mail server and IAP endpoints point at closed local ports. Exit code 0
when every check passes and no request failed unexpectedly, 1 when a check
fails or a request failed, 2 when the run hit --max-seconds.
"""

import argparse
import configparser
import contextlib
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
import requests

PASSWORD = "load-test-Pa55"
# Closed local ports: whatever tries to reach a mail server or IAP fails at once.
DEAD_SMTP = ("127.0.0.1", 1025)
DEAD_URL = "http://127.0.0.1:9"
OUTSIDE_ENDPOINTS = (
    "iap.endpoint",
    "sms.endpoint",
    "iap.partner_autocomplete.endpoint",
)
ROLES = ("web", "agent", "desk", "clerk")
GROUPS = {
    "sales": ["crm_core.group_crm_user"],
    "agent": ["crm_support.group_support_user"],
    "desk": ["crm_healthcare.group_healthcare_front_desk"],
    "clinician": ["crm_healthcare.group_healthcare_clinician"],
    "clerk": ["crm_retail.group_retail_user", "account.group_account_invoice"],
}
# The crons that run while the traffic runs (all others stay neutralized).
CRONS = (
    "crm_core.ir_cron_assign_backlog",
    "crm_core.ir_cron_score_churn",
    "crm_healthcare.ir_cron_send_reminders",
    "crm_healthcare.ir_cron_mark_no_shows",
    "crm_support.ir_cron_check_sla",
    "crm_retail.ir_cron_expire_points",
    "crm_retail.ir_cron_review_tiers",
    "mail.ir_cron_mail_scheduler_action",
)
# Second runners of two crons, started from an HTTP worker while the cron worker
# runs the originals: two workers doing the same job at the same moment.
TWINS = (
    ("Load test: second reminder runner", "crm.healthcare.reminder.log",
     "model._cron_send_reminders()"),
    ("Load test: second lead backlog runner", "crm.assignment.rule",
     "model._cron_assign_backlog()"),
)  # fmt: skip
TRAFFIC_KINDS = (
    "lead.create",
    "ticket.create",
    "ticket.answer",
    "appointment.search",
    "appointment.book",
    "appointment.confirm",
    "appointment.cancel",
    "invoice.create",
    "invoice.post",
)
SLOT_TAKEN = re.compile(r"is already booked from|was booked from")
CRON_BUSY = "currently being executed"
FIRST_NAMES = ("Jordan", "Casey", "Robin", "Alex", "Sam", "Noor", "Ines", "Tariq")
LAST_NAMES = ("Settings", "Peeters", "Dubois", "Jansen", "Moreau", "Khan", "Silva")


def utcnow():
    return datetime.now(UTC).replace(tzinfo=None)


def odoo_dt(value):
    return value.strftime("%Y-%m-%d %H:%M:%S")


def round_down(amount, digits=2):
    factor = 10**digits
    return math.floor(amount * factor + 1e-6) / factor


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.hit = False

    def left(self):
        return self.end - time.monotonic()


# ----------------------------------------------------------------------
# JSON-RPC
# ----------------------------------------------------------------------


class RpcError(Exception):
    def __init__(self, name, message, debug=""):
        super().__init__(f"{name}: {message}")
        self.name = name or "error"
        self.message = message or ""
        self.debug = debug or ""


class Client:
    """One browser-like session: its own cookie, its own connection pool."""

    def __init__(self, base_url, db, timeout):
        self.base_url = base_url
        self.db = db
        self.timeout = timeout
        self.http = requests.Session()
        self.seq = 0
        self.uid = None

    def _post(self, path, params):
        self.seq += 1
        payload = {"jsonrpc": "2.0", "method": "call", "id": self.seq, "params": params}
        try:
            response = self.http.post(
                self.base_url + path, json=payload, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise RpcError(type(error).__name__, str(error)) from None
        if response.status_code != 200:
            raise RpcError(f"HTTP {response.status_code}", response.text[:300])
        body = response.json()
        if "error" in body:
            error = body["error"]
            data = error.get("data") or {}
            raise RpcError(
                data.get("name") or error.get("message"),
                data.get("message") or error.get("message"),
                data.get("debug", ""),
            )
        return body.get("result")

    def login(self, login, password):
        result = self._post(
            "/web/session/authenticate",
            {"db": self.db, "login": login, "password": password},
        )
        if not (result or {}).get("uid"):
            raise RpcError("login", f"{login} could not sign in: {result!r}"[:300])
        self.uid = result["uid"]
        return self

    def call(self, model, method, *args, **kwargs):
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


class Stats:
    """Every request: its kind, latency and outcome (ok, expected rejection,
    unexpected error), with the first tracebacks of each error."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []
        self.errors = []
        self.expected = Counter()

    def run(self, kind, func, expected=None):
        """Call func(); returns (True, result) or (False, RpcError)."""
        start = time.perf_counter()
        try:
            result = func()
        except RpcError as error:
            elapsed = time.perf_counter() - start
            is_expected = bool(expected and expected(error))
            with self.lock:
                outcome = "expected" if is_expected else "error"
                self.rows.append((kind, elapsed, outcome))
                if is_expected:
                    self.expected[kind, error.message.split("\n")[0][:90]] += 1
                else:
                    self.errors.append(
                        {
                            "kind": kind,
                            "name": error.name,
                            "message": error.message[:500],
                            "traceback": error.debug[-3000:],
                        }
                    )
            return False, error
        with self.lock:
            self.rows.append((kind, time.perf_counter() - start, "ok"))
        return True, result

    def table(self, kinds):
        def pct(values, p):
            ordered = sorted(values)
            return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

        by_kind = defaultdict(list)
        for kind, elapsed, outcome in self.rows:
            if kind in kinds:
                by_kind[kind].append((elapsed, outcome))
                by_kind["all"].append((elapsed, outcome))
        table = {}
        for kind in [*kinds, "all"]:
            rows = by_kind.get(kind)
            if not rows:
                continue
            latencies = [elapsed for elapsed, _outcome in rows]
            outcomes = Counter(outcome for _elapsed, outcome in rows)
            table[kind] = {
                "requests": len(rows),
                "ok": outcomes["ok"],
                "expected": outcomes["expected"],
                "errors": outcomes["error"],
                "p50_ms": round(pct(latencies, 50) * 1000, 1),
                "p95_ms": round(pct(latencies, 95) * 1000, 1),
                "max_ms": round(max(latencies) * 1000, 1),
            }
        return table


# ----------------------------------------------------------------------
# Odoo server
# ----------------------------------------------------------------------


def read_options(conf_path):
    parser = configparser.RawConfigParser()
    parser.read(conf_path)
    return parser


def write_config(args, path, logfile):
    """The run's own configuration: the project's plus prefork, loopback, the
    load database only, closed mail ports."""
    parser = read_options(args.conf)
    options = parser["options"]
    options.update(
        {
            "workers": "2",
            "max_cron_threads": "1",
            "http_interface": "127.0.0.1",
            "http_port": str(args.port),
            "gevent_port": str(args.gevent_port),
            "limit_time_real": "600",
            "limit_time_cpu": "300",
            "limit_time_real_cron": "600",
            "db_name": args.db,
            "dbfilter": f"^{re.escape(args.db)}$",
            "list_db": "False",
            "proxy_mode": "False",
            "logfile": str(logfile),
            "log_level": "info",
            "smtp_server": DEAD_SMTP[0],
            "smtp_port": str(DEAD_SMTP[1]),
            "without_demo": "all",
        }
    )
    with open(path, "w") as handle:
        parser.write(handle)


def db_connect(args):
    options = read_options(args.conf)["options"]
    return psycopg2.connect(
        dbname=args.db,
        host=options.get("db_host", "127.0.0.1"),
        port=options.get("db_port", "5432"),
        user=options.get("db_user", "odoo"),
        password=options.get("db_password", "odoo"),
    )


def prepare_database(args):
    """Before Odoo starts: refuse a database that is not neutralized (its crons
    and mail servers could reach outside), point the mail server and IAP at
    closed local ports, and let the clinic's staff sign in by password as an API
    client does (two-factor is for people; the demo data does the same)."""
    with contextlib.closing(db_connect(args)) as cnx, cnx, cnx.cursor() as cr:
        cr.execute(
            "SELECT value FROM ir_config_parameter "
            "WHERE key = 'database.is_neutralized'"
        )
        row = cr.fetchone()
        if not row or row[0].lower() != "true":
            sys.exit(f"{args.db} is not neutralized: bench/load.sh neutralizes it.")
        params = {key: DEAD_URL for key in OUTSIDE_ENDPOINTS}
        params["crm_healthcare.mfa_policy"] = "optional"
        for key, value in params.items():
            cr.execute(
                """INSERT INTO ir_config_parameter (key, value, create_uid, write_uid,
                                                    create_date, write_date)
                   VALUES (%s, %s, 1, 1, now() at time zone 'utc',
                           now() at time zone 'utc')
                   ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value""",
                (key, value),
            )
        cr.execute(
            "UPDATE ir_mail_server SET smtp_host = %s, smtp_port = %s, "
            "smtp_encryption = 'none', smtp_authentication = 'login' WHERE active",
            DEAD_SMTP,
        )


def port_busy(port):
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Server:
    def __init__(self, args, conf_path, logfile):
        self.args = args
        self.conf_path = conf_path
        self.logfile = logfile
        self.proc = None

    def start(self, deadline):
        for port in (self.args.port, self.args.gevent_port):
            if port_busy(port):
                sys.exit(f"Port {port} is in use: stop whatever listens there first.")
        env = dict(os.environ, ODOO_NOTIFY_CRON_CHANGES="1")
        self.stdout = open(self.logfile.with_suffix(".stdout"), "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(self.args.odoo_src) / "odoo-bin"),
                "-c",
                str(self.conf_path),
            ],
            stdout=self.stdout,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{self.args.port}/web/health"
        limit = time.monotonic() + min(180, deadline.left())
        while time.monotonic() < limit:
            if self.proc.poll() is not None:
                sys.exit(f"Odoo exited with {self.proc.returncode}; see {self.logfile}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        sys.exit(f"Odoo did not answer {url} in time; see {self.logfile}")

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.stdout.close()


# ----------------------------------------------------------------------
# Seed
# ----------------------------------------------------------------------


class Seed:
    """What one run creates, named after the run so that a kept database can run
    again: the earlier runs' assignment rules, reminder rules and invoice loyalty
    programs are archived, so that they neither route nor remind nor earn."""

    def __init__(self, adm, run, args):
        self.adm = adm
        self.run = run
        self.args = args

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.adm.call(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
            limit=1,
        )
        if not rows:
            raise RuntimeError(f"missing {xmlid}")
        return rows[0]["res_id"]

    def users(self, role, count, label=None):
        groups = [self.ref(xmlid) for xmlid in GROUPS[role]]
        label = label or role
        logins = [f"{self.run}-{label}-{index + 1}" for index in range(count)]
        ids = self.adm.call(
            "res.users",
            "create",
            [
                {
                    "name": f"{label.title()} {index + 1} ({self.run})",
                    "login": login,
                    "email": f"{login}@example.com",
                    "password": PASSWORD,
                    "tz": "UTC",
                    "groups_id": [(6, 0, groups)],
                }
                for index, login in enumerate(logins)
            ],
            context={"no_reset_password": True},
        )
        return list(zip(ids, logins, strict=True))

    def build(self, capacity, slots_count):
        adm, run = self.adm, self.run
        for model, domain in (
            ("crm.assignment.rule", []),
            ("crm.healthcare.reminder.rule", []),
            ("loyalty.program", [("crm_earn_from_invoices", "=", True)]),
        ):
            ids = adm.call(model, "search", domain)
            if ids:
                adm.call(model, "write", ids, {"active": False})
        per_role = math.ceil(self.args.users / len(ROLES))
        s = {"run": run, "capacity_start": capacity}
        s["traffic_users"] = {
            "web": self.users("sales", per_role, "webform"),
            "agent": self.users("agent", per_role + 1),
            "desk": self.users("desk", per_role),
            "clerk": self.users("clerk", per_role),
        }
        # Three web forms, three teams of three, one per distribution: round-robin
        # (which writes its turn on the rule), weighted by free capacity and least
        # loaded (which write nothing shared).
        s["forms"] = {}
        for form, distribution in (
            ("A", "round_robin"),
            ("B", "weighted"),
            ("C", "least_loaded"),
        ):
            members = [uid for uid, _login in self.users("sales", 3, f"sales{form}")]
            source = adm.call(
                "utm.source", "create", {"name": f"{run} web form {form}"}
            )
            team = adm.call(
                "crm.team",
                "create",
                {
                    "name": f"{run} team {form}",
                    "crm_team_member_ids": [
                        (0, 0, {"user_id": uid, "assignment_max": capacity})
                        for uid in members
                    ],
                },
            )
            rule = adm.call(
                "crm.assignment.rule",
                "create",
                {
                    "name": f"{run} form {form} ({distribution})",
                    "team_id": team,
                    "distribution": distribution,
                    "source_ids": [(6, 0, [source])],
                },
            )
            s["forms"][form] = {
                "distribution": distribution,
                "members": members,
                "source": source,
                "team": team,
                "rule": rule,
            }
        agents = [uid for uid, _login in s["traffic_users"]["agent"]]
        s["support_team"] = adm.call(
            "crm.support.team",
            "create",
            {
                "name": f"{run} desk",
                "member_ids": [(6, 0, agents)],
                "auto_assign": True,
            },
        )
        s["agents"] = agents
        self._clinic(s, slots_count)
        self._shop(s)
        self._crons(s)
        return s

    def _clinic(self, s, slots_count):
        adm, run = self.adm, self.run
        calendar = adm.call(
            "resource.calendar",
            "create",
            {
                "name": f"{run} always open",
                "tz": "UTC",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": f"{day} {start}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                            "day_period": period,
                        },
                    )
                    for day in range(7)
                    for start, end, period in (
                        (0, 12, "morning"),
                        (12, 24, "afternoon"),
                    )
                ],
            },
        )
        (clinician, _login) = self.users("clinician", 1)[0]
        provider = adm.call(
            "crm.healthcare.provider",
            "create",
            {"user_id": clinician, "resource_calendar_id": calendar},
        )
        appointment_type = adm.call(
            "crm.healthcare.appointment.type",
            "create",
            {
                "name": f"{run} consultation",
                "duration": 0.5,
                "buffer_before": 5,
                "buffer_after": 5,
                "provider_ids": [(6, 0, [provider])],
                "reminder_rule_ids": [
                    (0, 0, {"hours_before": 48, "send_email": True}),
                    (0, 0, {"hours_before": 24, "send_email": True}),
                ],
            },
        )
        names = [(first, last) for last in LAST_NAMES[:2] for first in FIRST_NAMES]
        partners = adm.call(
            "res.partner",
            "create",
            [
                {
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}.{index}.{run}@example.com".lower(),
                }
                for index, (first, last) in enumerate(names[:10])
            ],
        )
        patients = adm.call(
            "crm.healthcare.patient",
            "create",
            [{"partner_id": pid, "reminder_channel": "email"} for pid in partners],
        )
        purpose = self.ref("crm_core.consent_purpose_health_reminders")
        adm.call(
            "crm.consent",
            "create",
            [
                {
                    "partner_id": pid,
                    "purpose_id": purpose,
                    "channel": "email",
                    "state": "granted",
                    "source": "in_person",
                    "proof": "Load test patient",
                }
                for pid in partners
            ],
        )
        # A few shared slots an hour apart, 2 to 20 hours ahead (both reminder
        # rules due: the 24 h one sends, the 48 h one is superseded), never across
        # midnight (the calendar's days do not join).
        now = utcnow()
        first = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
        if (first + timedelta(hours=slots_count)).date() != first.date():
            first = datetime.combine(
                first.date() + timedelta(days=1), datetime.min.time()
            )
            first += timedelta(hours=1)
            if first - now < timedelta(hours=2):
                first += timedelta(hours=2)
        s.update(
            provider=provider,
            appointment_type=appointment_type,
            patients=patients,
            patient_partners=partners,
            slots=[odoo_dt(first + timedelta(hours=i)) for i in range(slots_count)],
        )

    def _shop(self, s):
        adm, run = self.adm, self.run
        s["program"] = adm.call(
            "loyalty.program",
            "create",
            {
                "name": f"{run} rewards",
                "program_type": "loyalty",
                "applies_on": "both",
                "trigger": "auto",
                "crm_earn_from_invoices": True,
                "rule_ids": [
                    (0, 0, {"reward_point_mode": "money", "reward_point_amount": 1})
                ],
                "reward_ids": [
                    (
                        0,
                        0,
                        {
                            "reward_type": "discount",
                            "discount_mode": "per_point",
                            "discount": 0.1,
                            "required_points": 10,
                            "discount_applicability": "order",
                        },
                    )
                ],
            },
        )
        s["products"] = adm.call(
            "product.product",
            "create",
            [
                {"name": f"{run} {name}", "list_price": price, "type": "consu"}
                for name, price in (("beans", 12.5), ("grinder", 89.0), ("mug", 7.25))
            ],
        )
        s["customers"] = adm.call(
            "res.partner",
            "create",
            [
                {
                    "name": f"{run} shop customer {index + 1}",
                    "is_company": True,
                    "email": f"shop{index + 1}.{run}@example.com".lower(),
                }
                for index in range(6)
            ],
        )
        s["cards"] = adm.call(
            "loyalty.card",
            "create",
            [
                {"program_id": s["program"], "partner_id": pid, "points": 0}
                for pid in s["customers"]
            ],
        )

    def _crons(self, s):
        adm = self.adm
        s["crons"] = [self.ref(xmlid) for xmlid in CRONS]
        adm.call(
            "ir.cron",
            "write",
            s["crons"],
            {"active": True, "interval_number": 1, "interval_type": "minutes"},
        )
        ours = [
            cron
            for xmlid, cron in zip(CRONS, s["crons"], strict=True)
            if xmlid.startswith("crm_")
        ]
        s["our_cron_names"] = [
            row["name"] for row in adm.call("ir.cron", "read", ours, ["name"])
        ] + [name for name, _model, _code in TWINS]
        s["twins"] = []
        root = self.ref("base.user_root")
        for name, model, code in TWINS:
            found = adm.call("ir.cron", "search", [("name", "=", name)])
            if found:
                # Run as the cron worker runs the originals: as the superuser.
                adm.call("ir.cron", "write", found, {"user_id": root})
                s["twins"].append(found[0])
                continue
            model_id = adm.call("ir.model", "search", [("model", "=", model)])[0]
            s["twins"].append(
                adm.call(
                    "ir.cron",
                    "create",
                    {
                        "name": name,
                        "model_id": model_id,
                        "state": "code",
                        "code": code,
                        "interval_number": 1,
                        "interval_type": "days",
                        "user_id": root,
                        "active": False,
                    },
                )
            )


# ----------------------------------------------------------------------
# Traffic
# ----------------------------------------------------------------------


class Budget:
    """The requests left to send; an operation takes all the requests it may
    need at once and gives back those it did not use."""

    def __init__(self, total):
        self.total = total
        self.left = total
        self.lock = threading.Lock()

    def take(self, count):
        with self.lock:
            if self.left < count:
                return False
            self.left -= count
            return True

    def give_back(self, count):
        with self.lock:
            self.left += count

    def used(self):
        with self.lock:
            return self.total - self.left


class Traffic:
    def __init__(self, args, seed, stats, deadline):
        self.args = args
        self.s = seed
        self.stats = stats
        self.deadline = deadline
        self.budget = Budget(args.requests)
        self.lock = threading.Lock()
        self.leads = defaultdict(list)  # form: lead ids
        self.tickets = []  # (ticket id, agent uid, answer message id or None)
        self.bookings = defaultdict(lambda: Counter())  # slot: outcomes
        self.appointments = {}  # id: actions that succeeded (book, confirm, cancel)
        self.invoices = {}  # id: posted?
        self.half_done = threading.Event()
        self.on_half = None  # called once, in its own thread, halfway through
        self.helpers = []
        self.done = threading.Event()
        self.stopped_by_deadline = False
        self.capacity_raise = None

    # Operations: each returns how many requests it sent.
    def op_lead(self, client, rnd, counter):
        # Every web form user sends its n-th lead through the same form: leads
        # arriving together compete for the same team's capacity.
        form = "ABC"[counter % 3]
        company = f"Prospect {rnd.randint(1, 40)}"
        person = f"{rnd.choice(FIRST_NAMES)} {rnd.choice(LAST_NAMES)}"
        email = f"{person.replace(' ', '.')}@{company.replace(' ', '')}.example.com"
        values = {
            "name": f"{company}: demo request",
            "type": "lead",
            "contact_name": person,
            "partner_name": company,
            "email_from": email.lower(),
            "phone": f"+32 470 {rnd.randint(100000, 999999)}",
            "description": "Sent from the website contact form.",
            "source_id": self.s["forms"][form]["source"],
        }
        ok, result = self.stats.run(
            "lead.create", lambda: client.call("crm.lead", "create", values)
        )
        if ok:
            with self.lock:
                self.leads[form].append(result)
        return 1

    def op_ticket(self, client, rnd, counter):
        values = {
            "name": f"Order {rnd.randint(1000, 9999)} arrived damaged",
            "description": "<p>The parcel was open and the mug broken.</p>",
            "partner_email": f"client{rnd.randint(1, 25)}.{self.s['run']}@example.com",
            "channel": "web",
            "team_id": self.s["support_team"],
        }
        ok, ticket = self.stats.run(
            "ticket.create", lambda: client.call("crm.ticket", "create", values)
        )
        if not ok:
            return 1
        ok, message = self.stats.run(
            "ticket.answer",
            lambda: client.call(
                "crm.ticket",
                "message_post",
                [ticket],
                body=f"Sorry about that, a new one is on its way. [load {ticket}]",
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            ),
        )
        with self.lock:
            self.tickets.append((ticket, client.uid, message if ok else None))
        return 2

    def op_book(self, client, rnd, counter):
        """A front desk looks at the shared slots, books the first free one for a
        patient (the other front desk sees the same list: both may book it at
        the same moment), then confirms or cancels it. When every slot is taken,
        a patient calls to cancel one, which frees it."""
        Appointment = "crm.healthcare.appointment"
        slots = self.s["slots"]
        ok, taken = self.stats.run(
            "appointment.search",
            lambda: client.call(
                Appointment,
                "search_read",
                [
                    ("provider_id", "=", self.s["provider"]),
                    ("state", "not in", ["cancelled", "no_show"]),
                    ("start", "in", slots),
                ],
                ["start"],
            ),
        )
        if not ok:
            return 1
        free = [slot for slot in slots if slot not in {a["start"] for a in taken}]
        if not free:
            victim = rnd.choice(taken)["id"]
            self.change(client, victim, "cancel")
            return 2
        slot = free[0]
        values = {
            "patient_id": rnd.choice(self.s["patients"]),
            "provider_id": self.s["provider"],
            "appointment_type_id": self.s["appointment_type"],
            "start": slot,
        }
        ok, result = self.stats.run(
            "appointment.book",
            lambda: client.call(Appointment, "create", values),
            expected=lambda e: (
                "ValidationError" in e.name and SLOT_TAKEN.search(e.message)
            ),
        )
        if not ok:
            with self.lock:
                expected = SLOT_TAKEN.search(result.message) is not None
                self.bookings[slot]["refused" if expected else "error"] += 1
            return 2
        with self.lock:
            self.bookings[slot]["booked"] += 1
            self.appointments[result] = {"book"}
        self.change(client, result, "confirm" if rnd.random() < 0.5 else "cancel")
        return 3

    def change(self, client, appointment, action):
        """Confirm or cancel; refused as expected when the other front desk
        cancelled it first."""
        ok, _ = self.stats.run(
            f"appointment.{action}",
            lambda: client.call(
                "crm.healthcare.appointment", f"action_{action}", [appointment]
            ),
            expected=lambda e: (
                "UserError" in e.name and "cannot be set to" in e.message
            ),
        )
        if ok:
            with self.lock:
                self.appointments.setdefault(appointment, set()).add(action)

    def op_invoice(self, client, rnd, counter):
        lines = [
            (
                0,
                0,
                {
                    "product_id": rnd.choice(self.s["products"]),
                    "quantity": rnd.randint(1, 4),
                    "price_unit": round(rnd.uniform(5, 120), 2),
                },
            )
            for _line in range(rnd.randint(1, 3))
        ]
        values = {
            "move_type": "out_invoice",
            "partner_id": rnd.choice(self.s["customers"]),
            "invoice_date": utcnow().date().isoformat(),
            "invoice_line_ids": lines,
        }
        ok, move = self.stats.run(
            "invoice.create", lambda: client.call("account.move", "create", values)
        )
        if not ok:
            return 1
        with self.lock:
            self.invoices[move] = False
        ok, _ = self.stats.run(
            "invoice.post", lambda: client.call("account.move", "action_post", [move])
        )
        if ok:
            with self.lock:
                self.invoices[move] = True
        return 2

    OPERATIONS = {
        "web": (op_lead, 1),
        "agent": (op_ticket, 2),
        "desk": (op_book, 3),
        "clerk": (op_invoice, 2),
    }

    def user_loop(self, role, client, index):
        operation, most = self.OPERATIONS[role]
        rnd = random.Random(self.args.seed * 1000 + index)
        counter = 0  # operations this user did: the web forms take turns in step
        while True:
            if self.deadline.left() < self.args.reserve:
                self.stopped_by_deadline = True
                return
            if not self.budget.take(most):
                return
            used = operation(self, client, rnd, counter)
            self.budget.give_back(most - used)
            counter += 1
            if self.budget.used() * 2 >= self.budget.total:
                self.halfway()

    def halfway(self):
        with self.lock:
            if self.half_done.is_set():
                return
            self.half_done.set()
        if self.on_half:
            helper = threading.Thread(target=self.on_half, daemon=True)
            helper.start()
            self.helpers.append(helper)

    def run(self, clients):
        threads = [
            threading.Thread(
                target=self.user_loop, args=(role, client, index), daemon=True
            )
            for index, (role, client) in enumerate(clients)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for helper in self.helpers:
            helper.join()
        self.done.set()
        return time.perf_counter() - start


class CronKicker:
    """Admin in the background: wakes the crons (nextcall now, which notifies the
    cron worker), runs the twin crons from an HTTP worker, and halfway through
    raises the salespeople's capacity, so that the backlog crons and the
    real-time routing compete for the capacity that opens."""

    def __init__(self, adm, raiser, seed, stats, traffic, interval):
        self.adm = adm
        self.raiser = raiser  # a second admin session, for the raise alone
        self.s = seed
        self.stats = stats
        self.traffic = traffic
        self.interval = interval

    def kick(self):
        now = odoo_dt(utcnow())
        for cron in self.s["crons"]:
            self.stats.run(
                "cron.wake",
                lambda cron=cron: self.adm.call(
                    "ir.cron", "write", [cron], {"nextcall": now}
                ),
                expected=lambda e: CRON_BUSY in e.message,
            )
        for twin in self.s["twins"]:
            self.stats.run(
                "cron.twin",
                lambda twin=twin: self.adm.call(
                    "ir.cron", "method_direct_trigger", [twin]
                ),
                expected=lambda e: CRON_BUSY in e.message,
            )

    def raise_capacity(self):
        """New capacity per team: 80% of the leads its form should get in the
        whole run, so that it fills up again before the end."""
        raised = {"at": odoo_dt(utcnow()), "teams": {}}
        used = max(1, self.traffic.budget.used())
        for form, info in self.s["forms"].items():
            with self.traffic.lock:
                so_far = len(self.traffic.leads[form])
            expected_total = so_far * self.traffic.budget.total / used
            capacity = max(
                self.s["capacity_start"] + 1,
                int(0.8 * expected_total / len(info["members"])),
            )
            members = self.raiser.call(
                "crm.team.member", "search", [("crm_team_id", "=", info["team"])]
            )
            self.stats.run(
                "capacity.raise",
                lambda members=members, capacity=capacity: self.raiser.call(
                    "crm.team.member", "write", members, {"assignment_max": capacity}
                ),
            )
            raised["teams"][form] = capacity
        self.traffic.capacity_raise = raised

    def loop(self):
        while not self.traffic.done.is_set():
            self.kick()
            self.traffic.done.wait(self.interval)


# ----------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------


class Checks:
    def __init__(self, cr, seed, traffic):
        self.cr = cr
        self.s = seed
        self.t = traffic
        self.results = []
        self.observations = []

    def add(self, name, ok, detail):
        self.results.append({"check": name, "ok": bool(ok), "detail": detail})

    def rows(self, query, params=None):
        self.cr.execute(query, params or {})
        return self.cr.fetchall()

    def pending(self):
        """What the crons still have to do: due reminders, and unowned leads of a
        team whose salespeople have room."""
        self.cr.connection.rollback()
        due = self.rows(
            """
            SELECT COUNT(*) FROM crm_healthcare_appointment a
              JOIN crm_healthcare_reminder_rule r
                ON r.appointment_type_id = a.appointment_type_id AND r.active
             WHERE a.appointment_type_id = %(type)s
               AND a.state IN ('booked', 'confirmed')
               AND a.start > (now() at time zone 'utc')
               AND a.start - r.hours_before * interval '1 hour'
                   <= (now() at time zone 'utc')
               AND NOT EXISTS (
                    SELECT 1 FROM crm_healthcare_reminder_log l
                     WHERE l.appointment_id = a.id AND l.rule_id = r.id
                       AND l.channel = 'email')
            """,
            {"type": self.s["appointment_type"]},
        )[0][0]
        assignable = 0
        for info in self.s["forms"].values():
            unowned = self.rows(
                "SELECT COUNT(*) FROM crm_lead "
                "WHERE source_id = %s AND user_id IS NULL",
                (info["source"],),
            )[0][0]
            room = self.rows(
                """
                SELECT COALESCE(SUM(GREATEST(m.assignment_max - (
                           SELECT COUNT(*) FROM crm_lead l
                            WHERE l.team_id = m.crm_team_id AND l.user_id = m.user_id
                              AND l.date_open >= (now() at time zone 'utc')
                                                 - interval '30 days'), 0)), 0)
                  FROM crm_team_member m
                 WHERE m.crm_team_id = %s AND m.active
                """,
                (info["team"],),
            )[0][0]
            if unowned and room:
                assignable += min(unowned, room)
        return {"due_reminders": due, "assignable_leads": assignable}

    def run_all(self):
        self.cr.connection.rollback()
        self.leads()
        self.appointments()
        self.reminders()
        self.loyalty()
        self.tickets()
        return self.results

    def leads(self):
        raise_info = self.t.capacity_raise or {}
        user_field = self.rows(
            "SELECT id FROM ir_model_fields "
            "WHERE model = 'crm.lead' AND name = 'user_id'"
        )[0][0]
        for form, info in self.s["forms"].items():
            ids = self.t.leads[form]
            name = f"leads of form {form} ({info['distribution']})"
            rows = self.rows(
                """
                SELECT l.id, l.user_id, l.team_id, l.assignment_rule_id, l.date_open,
                       (SELECT COUNT(*) FROM mail_tracking_value v
                          JOIN mail_message m ON m.id = v.mail_message_id
                         WHERE m.model = 'crm.lead' AND m.res_id = l.id
                           AND v.field_id = %(field)s) AS tracked,
                       l.date_open = l.create_date AS on_create
                  FROM crm_lead l WHERE l.id = ANY(%(ids)s)
                """,
                {"field": user_field, "ids": ids},
            )
            members = set(info["members"])
            stored = len(rows)
            assigned = [r for r in rows if r[1]]
            wrong = [
                r[0]
                for r in assigned
                if r[1] not in members or r[2] != info["team"] or r[3] != info["rule"]
            ]
            # Owner changes are tracked, except in the transaction that created
            # the lead (mail.thread discards them): a lead routed on create has
            # no tracked change and date_open == create_date; one given by a
            # backlog cron has exactly one. Any other count: assigned twice.
            on_create = sum(1 for r in assigned if r[6])
            twice = [r[0] for r in rows if r[5] != (0 if not r[1] or r[6] else 1)]
            self.add(
                f"{name}: stored, assigned once to a member by the rule",
                stored == len(ids) and not wrong and not twice,
                f"{len(ids)} created, {stored} stored, {len(assigned)} assigned "
                f"({on_create} on create, {len(assigned) - on_create} by a cron), "
                f"{stored - len(assigned)} waiting; "
                f"wrong owner/team/rule: {wrong[:5]}; assigned twice: {twice[:5]}",
            )
            capacity = dict(
                self.rows(
                    "SELECT user_id, assignment_max FROM crm_team_member "
                    "WHERE crm_team_id = %s",
                    (info["team"],),
                )
            )
            per_user = Counter(r[1] for r in assigned)
            over = {
                u: (n, capacity.get(u))
                for u, n in per_user.items()
                if n > capacity.get(u, 0)
            }
            waiting = stored - len(assigned)
            not_full = [u for u in members if per_user.get(u, 0) < capacity.get(u, 0)]
            self.add(
                f"{name}: nobody above capacity, nobody with room while leads wait",
                not over and not (waiting and not_full),
                f"capacity {sorted(set(capacity.values()))} per salesperson, leads per "
                f"salesperson {sorted(per_user.values())}; above: {over}; "
                f"{waiting} waiting while {len(not_full) if waiting else 0} had room; "
                f"leads of those above (id, assigned at, on create): "
                f"{self.evidence(over, assigned)}",
            )
            if raise_info:
                before = datetime.strptime(raise_info["at"], "%Y-%m-%d %H:%M:%S")
                early = Counter(r[1] for r in assigned if r[4] and r[4] < before)
                start = self.s["capacity_start"]
                over = {u: n for u, n in early.items() if n > start}
                evidence = self.evidence(over, assigned, before)
                self.add(
                    f"{name}: capacity held before the raise at {raise_info['at']}",
                    not over,
                    f"capacity {start} then {raise_info['teams'][form]}; leads per "
                    f"salesperson before the raise {sorted(early.values())}; "
                    f"above {start}: {over}; their leads (id, assigned at, on "
                    f"create): {evidence}",
                )

    @staticmethod
    def evidence(users, assigned, before=None):
        """The leads of ``users``, each with the moment its assigning transaction
        started (date_open) and whether it was routed on create: transactions
        that overlap, each having seen room for one more, show the race."""
        return {
            user: [
                (r[0], r[4].strftime("%H:%M:%S.%f")[:-3], bool(r[6]))
                for r in sorted(assigned, key=lambda r: r[4])
                if r[1] == user and (before is None or r[4] < before)
            ]
            for user in users
        }

    def appointments(self):
        overlaps = self.rows(
            """
            SELECT a.name, b.name FROM crm_healthcare_appointment a
              JOIN crm_healthcare_appointment b
                ON a.provider_id = b.provider_id AND a.id < b.id
               AND tsrange(a.blocked_start, a.blocked_stop, '[)')
                   && tsrange(b.blocked_start, b.blocked_stop, '[)')
             WHERE a.provider_id = %(provider)s
               AND a.state NOT IN ('cancelled', 'no_show')
               AND b.state NOT IN ('cancelled', 'no_show')
            """,
            {"provider": self.s["provider"]},
        )
        states = dict(
            self.rows(
                "SELECT id, state FROM crm_healthcare_appointment "
                "WHERE provider_id = %s",
                (self.s["provider"],),
            )
        )
        unknown = set(states) - set(self.t.appointments)
        lost = set(self.t.appointments) - set(states)
        # Cancelling is final: an accepted cancel means cancelled, else an
        # accepted confirm means confirmed, whatever order the answers came in.
        mismatch = [
            (a, sorted(actions), states.get(a))
            for a, actions in self.t.appointments.items()
            if states.get(a)
            != (
                "cancelled"
                if "cancel" in actions
                else "confirmed"
                if "confirm" in actions
                else "booked"
            )
        ]
        per_slot = {
            slot[11:16]: dict(self.t.bookings[slot]) for slot in self.s["slots"]
        }
        self.add(
            "appointments: no two active bookings of the practitioner overlap",
            not overlaps,
            f"{len(states)} bookings, "
            f"{sum(1 for s in states.values() if s == 'confirmed')} confirmed; "
            f"overlapping pairs: {overlaps[:5]}; per slot {per_slot}",
        )
        self.add(
            "appointments: every accepted booking stored in its state, "
            "none from a refusal",
            not unknown and not lost and not mismatch,
            f"stored without an accepted request: {sorted(unknown)[:5]}; accepted but "
            f"missing: {sorted(lost)[:5]}; state other than the accepted "
            f"actions make: {mismatch[:5]}",
        )

    def reminders(self):
        rows = self.rows(
            """
            SELECT a.id, a.state,
                   COUNT(l.id) FILTER (WHERE l.state = 'sent'),
                   COUNT(l.id) FILTER (WHERE l.state = 'skipped'),
                   COUNT(l.id) FILTER (WHERE l.state NOT IN ('sent', 'skipped')),
                   array_agg(l.reason) FILTER (WHERE l.state <> 'sent'
                                                 AND l.reason NOT LIKE 'A closer%%')
              FROM crm_healthcare_appointment a
              LEFT JOIN crm_healthcare_reminder_log l ON l.appointment_id = a.id
             WHERE a.appointment_type_id = %(type)s
             GROUP BY a.id, a.state
            """,
            {"type": self.s["appointment_type"]},
        )
        duplicates = self.rows(
            """
            SELECT appointment_id, rule_id, channel, COUNT(*)
              FROM crm_healthcare_reminder_log l
              JOIN crm_healthcare_appointment a ON a.id = l.appointment_id
             WHERE a.appointment_type_id = %s
             GROUP BY appointment_id, rule_id, channel HAVING COUNT(*) > 1
            """,
            (self.s["appointment_type"],),
        )
        due = self.pending()["due_reminders"]
        active = [r for r in rows if r[1] in ("booked", "confirmed")]
        not_once = [r[0] for r in active if r[2] != 1]
        twice = [r[0] for r in rows if r[2] > 1]
        odd = [(r[0], r[5]) for r in rows if r[4] or (r[5] and any(r[5]))]
        sent_logs = sum(r[2] for r in rows)
        mails = self.rows(
            """
            SELECT COUNT(DISTINCT mm.id) FROM mail_mail mm
              JOIN mail_message msg ON msg.id = mm.mail_message_id
              JOIN mail_mail_res_partner_rel rel ON rel.mail_mail_id = mm.id
             WHERE msg.subject LIKE 'Reminder: your appointment%%'
               AND rel.res_partner_id = ANY(%s)
            """,
            (self.s["patient_partners"],),
        )[0][0]
        linked = self.rows(
            """
            SELECT COUNT(l.mail_id), COUNT(DISTINCT l.mail_id)
              FROM crm_healthcare_reminder_log l
              JOIN crm_healthcare_appointment a ON a.id = l.appointment_id
             WHERE a.appointment_type_id = %s AND l.state = 'sent'
            """,
            (self.s["appointment_type"],),
        )[0]
        self.add(
            "reminders: each booked appointment reminded exactly once, none left due",
            not duplicates and not not_once and not twice and not due and not odd,
            f"{len(active)} active appointments, {sent_logs} reminders sent, "
            f"{sum(r[3] for r in rows)} superseded; not sent exactly once: "
            f"{not_once[:5]}; sent twice: {twice[:5]}; duplicate log rows: "
            f"{duplicates[:5]}; still due: {due}; "
            f"failed or skipped otherwise: {odd[:3]}",
        )
        self.add(
            "reminders: one queued email per reminder sent",
            mails == sent_logs and linked[0] == linked[1],
            f"{mails} reminder emails to the run's patients for {sent_logs} sent log "
            f"rows; {linked[0]} logs link {linked[1]} distinct emails",
        )

    def loyalty(self):
        moves = self.t.invoices
        rows = self.rows(
            "SELECT id, state, amount_total, commercial_partner_id FROM account_move "
            "WHERE id = ANY(%s)",
            (list(moves),),
        )
        cards = {
            partner: (card, points)
            for card, partner, points in self.rows(
                "SELECT id, partner_id, points FROM loyalty_card WHERE program_id = %s",
                (self.s["program"],),
            )
        }
        card_ids = [card for card, _points in cards.values()]
        lots = defaultdict(list)
        for move, card, points, state in self.rows(
            "SELECT move_id, card_id, points, state FROM crm_retail_loyalty_lot "
            "WHERE card_id = ANY(%s)",
            (card_ids,),
        ):
            lots[move].append((card, points, state))
        history = {
            card: (issued, used)
            for card, issued, used in self.rows(
                "SELECT card_id, SUM(issued), SUM(used) FROM loyalty_history "
                "WHERE card_id = ANY(%s) GROUP BY card_id",
                (card_ids,),
            )
        }
        earns = Counter(
            dict(
                self.rows(
                    "SELECT order_id, COUNT(*) FROM loyalty_history "
                    "WHERE card_id = ANY(%s) AND order_model = 'account.move' "
                    "AND crm_kind = 'earn' "
                    "GROUP BY order_id",
                    (card_ids,),
                )
            )
        )
        taken = dict(
            self.rows(
                "SELECT card_id, SUM(points) FROM crm_retail_loyalty_consumption "
                "WHERE card_id = ANY(%s) GROUP BY card_id",
                (card_ids,),
            )
        )
        expected = defaultdict(float)
        problems = []
        posted = 0
        for move, state, total, partner in rows:
            move_lots = lots.get(move, [])
            if state != "posted":
                if move_lots or earns[move]:
                    problems.append(f"draft {move} earned")
                if moves[move]:
                    problems.append(f"{move} posted by the driver but {state}")
                continue
            posted += 1
            points = round_down(float(total))
            expected[partner] += points
            card = cards.get(partner, (None, 0))[0]
            if (
                len(move_lots) != 1
                or move_lots[0][0] != card
                or move_lots[0][2] != "active"
                or abs(move_lots[0][1] - points) > 0.005
                or earns[move] != 1
            ):
                problems.append(
                    f"invoice {move} ({total}): lots {move_lots}, "
                    f"{earns[move]} earn rows, expected {points}"
                )
        if len(rows) != len(moves):
            problems.append(f"{len(moves) - len(rows)} invoices missing")
        balances = []
        for partner, (card, points) in cards.items():
            issued, used = history.get(card, (0.0, 0.0))
            lot_sum = sum(p for entries in lots.values() for c, p, s in entries
                          if c == card and s == "active")  # fmt: skip
            ledger = lot_sum - taken.get(card, 0.0)
            want = expected.get(partner, 0.0)
            balances.append(round(points, 2))
            if not (
                abs(points - want) < 0.01
                and abs(points - (issued - used)) < 0.01
                and abs(points - ledger) < 0.01
            ):
                problems.append(
                    f"card {card}: points {points}, invoices earned {round(want, 2)}, "
                    f"history {round(issued - used, 2)}, lots {round(ledger, 2)}"
                )
        self.add(
            "loyalty: each card's points equal what its posted invoices earned",
            not problems,
            f"{len(rows)} invoices, {posted} posted; card balances {balances}; "
            f"problems: {problems[:5]}",
        )

    def tickets(self):
        ids = [ticket for ticket, _agent, _message in self.t.tickets]
        rows = {
            row[0]: row[1:]
            for row in self.rows(
                "SELECT id, number, user_id, team_id, date_first_response "
                "FROM crm_ticket WHERE id = ANY(%s)",
                (ids,),
            )
        }
        partners = dict(
            self.rows(
                "SELECT id, partner_id FROM res_users WHERE id = ANY(%s)",
                (self.s["agents"],),
            )
        )
        answers = Counter(
            dict(
                (
                    (res_id, author), count
                )
                for res_id, author, count in self.rows(
                    """
                    SELECT res_id, author_id, COUNT(*) FROM mail_message
                     WHERE model = 'crm.ticket' AND res_id = ANY(%s)
                       AND message_type = 'comment' AND body LIKE '%%[load %%'
                     GROUP BY res_id, author_id
                    """,
                    (ids,),
                )
            )
        )  # fmt: skip
        numbers = Counter(row[0] for row in rows.values())
        problems = []
        answered = 0
        for ticket, agent, message in self.t.tickets:
            row = rows.get(ticket)
            if not row:
                problems.append(f"ticket {ticket} missing")
                continue
            number, user, team, first_response = row
            if user not in self.s["agents"] or team != self.s["support_team"]:
                problems.append(f"ticket {number} owner {user} team {team}")
            if not number or number == "/" or numbers[number] > 1:
                problems.append(f"ticket {ticket} number {number!r}")
            if message:
                answered += 1
                mine = answers[ticket, partners[agent]]
                total = sum(n for (t, _a), n in answers.items() if t == ticket)
                if mine != 1 or total != 1 or not first_response:
                    problems.append(
                        f"ticket {number}: {total} answers ({mine} by its agent), "
                        f"first response {first_response}"
                    )
        self.add(
            "tickets: all stored, numbered once, assigned, each answer stored once",
            not problems,
            f"{len(ids)} tickets, {answered} answered, agents' loads "
            f"{sorted(Counter(r[1] for r in rows.values()).values())}; "
            f"problems: {problems[:5]}",
        )
        # Not a check: a ticket from a new address creates its contact (Odoo's
        # find_or_create, not atomic); two at once may create two.
        twins = self.rows(
            """
            SELECT email_normalized, COUNT(*) FROM res_partner
             WHERE email_normalized LIKE %s
             GROUP BY email_normalized HAVING COUNT(*) > 1
            """,
            (f"client%.{self.s['run'].lower()}@example.com",),
        )
        self.observations.append(
            f"tickets: {len(twins)} customer addresses got two or more contacts "
            f"from tickets created at the same moment {twins[:3]}"
        )


# ----------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------


RECORD_RE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ \d+ (\w+) \S+ (\S+): (.*)$")
EXCEPTION_RE = re.compile(r"^[\w.]+(Error|Exception|Failure|Violation|Detected)\b")
CONFLICTS = ("could not serialize", "deadlock detected", "could not obtain lock")


def exception_line(text):
    """The exception's own line in a traceback (the last one that names it)."""
    lines = [line for line in text.splitlines() if EXCEPTION_RE.match(line)]
    if lines:
        return lines[-1]
    rest = text.strip().splitlines()
    return rest[-1] if rest else ""


def log_records(logfile):
    """(level, logger, message, continuation lines) of each record of the log."""
    record = None
    with open(logfile, errors="replace") as handle:
        for line in handle:
            match = RECORD_RE.match(line)
            if match:
                if record:
                    yield record
                record = (*match.groups(), [])
            elif record:
                record[3].append(line.rstrip("\n"))
    if record:
        yield record


def scan_log(logfile, addons_dir, our_crons=()):
    """What Odoo's log says about the run: requests retried after a concurrency
    error and the tables of those conflicts, bookings refused by the exclusion
    constraint (two at the same moment), cron jobs that failed and other errors,
    each as "ours" when it is one of ``our_crons`` (names) or our addons' code is
    in its traceback, else "odoo"; failed
    queries alone (their request or cron says the rest); warnings other than the
    refusals sent to users."""
    found = {
        "retries": 0,
        "retries_exhausted": 0,
        "conflicts": Counter(),
        "exclusion_refusals": 0,
        "booking_deadlocks": 0,
        "failed_queries": Counter(),
        "cron_failures": {"ours": Counter(), "odoo": Counter()},
        "errors": {"ours": Counter(), "odoo": Counter()},
        "warnings": Counter(),
    }
    if logfile.exists():
        for level, logger, message, more in log_records(logfile):
            if "tries left, try again" in message:
                found["retries"] += 1
            elif "maximum number of tries reached" in message:
                found["retries_exhausted"] += 1
            if level == "WARNING" and logger != "odoo.http":
                found["warnings"][f"{logger}: {message}"[:160]] += 1
            if level not in ("ERROR", "CRITICAL"):
                continue
            text = "\n".join(more)
            owner = "ours" if addons_dir in text or ".crm_" in logger else "odoo"
            if logger == "odoo.sql_db" and message.startswith("bad query"):
                table = re.search(
                    r'(?:UPDATE|INSERT INTO|DELETE FROM|FROM)\s+"?(\w+)', message
                )
                table = table.group(1) if table else "?"
                error = next((ln for ln in more if ln.startswith("ERROR:")), text)
                key = f"{table}: {error.strip()[:120]}"
                if any(conflict in error for conflict in CONFLICTS):
                    found["conflicts"][key] += 1
                    # Two bookings inserted at once wait for each other in the
                    # exclusion check: PostgreSQL aborts one, Odoo retries it.
                    if table == "crm_healthcare_appointment" and "deadlock" in error:
                        found["booking_deadlocks"] += 1
                elif table == "crm_healthcare_appointment" and "exclusion" in error:
                    found["exclusion_refusals"] += 1
                else:
                    found["failed_queries"][key] += 1
            elif logger.endswith("ir_cron") and "failed" in message:
                job = re.search(r"Job (.+?) \(\d+\)", message)
                name = job.group(1) if job else message
                if name.strip("'\"") in our_crons:
                    owner = "ours"
                found["cron_failures"][owner][
                    f"{name}: {exception_line(text)[:200]}"
                ] += 1
            else:
                found["errors"][owner][
                    f"{logger}: {message[:200]} {exception_line(text)}"
                ] += 1
    for key in ("conflicts", "failed_queries", "warnings"):
        found[key] = dict(found[key].most_common(12))
    for key in ("cron_failures", "errors"):
        found[key] = {
            owner: dict(counter.most_common(12))
            for owner, counter in found[key].items()
        }
    return found


def cron_failures_not_conflicts(log):
    """Our crons' failures other than on a concurrency conflict (the cron runs
    again and the checks tell whether anything was lost)."""
    return {
        line: count
        for line, count in log["cron_failures"]["ours"].items()
        if not any(
            name in line
            for name in ("SerializationFailure", "DeadlockDetected", "LockNotAvailable")
        )
    }


def print_report(report):
    print()
    print(
        f"Load test {report['run']}: {report['requests']} requests from "
        f"{report['users']} users in {report['traffic_seconds']:.1f} s = "
        f"{report['requests_per_second']:.1f} requests/s (prefork, 2 workers + cron)"
    )
    header = (
        f"{'kind':<22}{'requests':>9}{'ok':>7}{'expected':>10}{'errors':>8}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    )
    for title, table in (
        ("traffic", report["kinds"]),
        ("background", report["background"]),
    ):
        print(f"\n{title}\n{header}\n{'-' * len(header)}")
        for kind, row in table.items():
            print(
                f"{kind:<22}{row['requests']:>9}{row['ok']:>7}{row['expected']:>10}"
                f"{row['errors']:>8}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['max_ms']:>9}"
            )
    if report["expected_rejections"]:
        print("\nexpected rejections")
        for line in report["expected_rejections"]:
            print(f"  {line['count']:>4} {line['kind']}: {line['message']}")
    if report["errors"]:
        print(f"\nunexpected errors ({len(report['errors'])}), first ones:")
        for error in report["errors"][:5]:
            message = " ".join(error["message"].split())[:300]
            print(f"  {error['kind']}: {error['name']}: {message}")
            if error["traceback"]:
                print(f"    {exception_line(error['traceback'])[:300]}")
    log = report["odoo_log"]
    print(
        f"\nOdoo log: {log['retries']} requests retried after a concurrency error, "
        f"{log['retries_exhausted']} gave up"
    )
    print(
        f"  two bookings at the same moment: {log['exclusion_refusals']} refused by "
        f"the exclusion constraint, {log['booking_deadlocks']} deadlocked in it "
        "(retried by Odoo); the other refusals by the "
        "pre-check"
    )
    sections = [
        ("concurrency conflicts (query, then retried)", log["conflicts"]),
        ("our crons' failures", log["cron_failures"]["ours"]),
        ("Odoo's own crons' failures", log["cron_failures"]["odoo"]),
        ("errors in our addons' code", log["errors"]["ours"]),
        ("errors in Odoo's own code", log["errors"]["odoo"]),
        ("other failed queries", log["failed_queries"]),
        ("warnings", log["warnings"]),
    ]
    for title, lines in sections:
        if lines:
            print(f"  {title}:")
            for line, count in lines.items():
                print(f"    {count:>4} {line}")
    print(f"\nsettle: {report['settle']}")
    print("\nchecks")
    for check in report["checks"]:
        print(f"  [{'PASS' if check['ok'] else 'FAIL'}] {check['check']}")
        print(f"         {check['detail']}")
    for line in report["observations"]:
        print(f"  [NOTE] {line}")
    print(
        f"\n{'PASSED' if report['passed'] else 'FAILED'} in "
        f"{report['total_seconds']:.0f} s; report {report['report_path']}"
    )


# ----------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conf", required=True, help="the project's odoo.conf")
    parser.add_argument("--db", default="crm_load")
    parser.add_argument("--odoo-src", default=os.environ.get("ODOO_SRC", "/opt/odoo18"))
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--slots", type=int, default=4, help="shared appointment slots")
    parser.add_argument("--port", type=int, default=8469)
    parser.add_argument("--gevent-port", type=int, default=8472)
    parser.add_argument("--max-seconds", type=int, default=600)
    parser.add_argument("--kick-seconds", type=float, default=4.0)
    parser.add_argument("--settle-seconds", type=int, default=120)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--reserve",
        type=int,
        default=150,
        help="seconds kept from --max-seconds for settling, checks and stopping",
    )
    args = parser.parse_args(argv)
    if args.requests < 8 or args.users < len(ROLES) or args.requests > 20000:
        parser.error("8 to 20000 requests, at least 4 users (one per role)")
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    deadline = Deadline(args.max_seconds)
    logs = Path(args.conf).resolve().parent / "logs"
    logs.mkdir(exist_ok=True)
    logfile = logs / "load-odoo.log"
    conf_path = Path(args.conf).resolve().parent / "load-odoo.conf"
    report_path = logs / "load-report.json"
    logfile.unlink(missing_ok=True)
    write_config(args, conf_path, logfile)
    prepare_database(args)
    server = Server(args, conf_path, logfile)

    def on_signal(signum, _frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    try:
        print(f"[load] starting Odoo (prefork) on 127.0.0.1:{args.port}, log {logfile}")
        server.start(deadline)
        base = f"http://127.0.0.1:{args.port}"
        timeout = 180
        adm = Client(base, args.db, timeout).login("admin", "admin")
        run = "L" + utcnow().strftime("%m%d%H%M%S")
        capacity = max(1, args.requests // 120)
        print(f"[load] seeding run {run} as admin over JSON-RPC")
        seed = Seed(adm, run, args).build(capacity, args.slots)
        clients = []
        queues = {role: list(seed["traffic_users"][role]) for role in ROLES}
        for index in range(args.users):
            role = ROLES[index % len(ROLES)]
            _uid, login = queues[role].pop(0)
            clients.append(
                (role, Client(base, args.db, timeout).login(login, PASSWORD))
            )
        stats = Stats()
        traffic = Traffic(args, seed, stats, deadline)
        kicker = CronKicker(
            Client(base, args.db, timeout).login("admin", "admin"),
            Client(base, args.db, timeout).login("admin", "admin"),
            seed,
            stats,
            traffic,
            args.kick_seconds,
        )
        traffic.on_half = kicker.raise_capacity
        kicker_thread = threading.Thread(target=kicker.loop, daemon=True)
        kicker_thread.start()
        print(f"[load] {args.requests} requests from {args.users} users")
        traffic_seconds = traffic.run(clients)
        kicker_thread.join()
        print(
            f"[load] traffic done in {traffic_seconds:.1f} s; letting the crons settle"
        )
        with contextlib.closing(db_connect(args)) as cnx, cnx.cursor() as cr:
            checks = Checks(cr, seed, traffic)
            settle_start = time.monotonic()
            settle_limit = min(args.settle_seconds, max(0, deadline.left() - 40))
            clean = 0
            pending = checks.pending()
            while time.monotonic() - settle_start < settle_limit:
                kicker.kick()
                time.sleep(3)
                pending = checks.pending()
                clean = clean + 1 if not any(pending.values()) else 0
                if clean >= 2:
                    break
            settle = {
                "seconds": round(time.monotonic() - settle_start, 1),
                "settled": clean >= 2,
                "left": pending,
            }
            results = checks.run_all()
            observations = checks.observations
        table = stats.table(TRAFFIC_KINDS)
        background = stats.table(("cron.wake", "cron.twin", "capacity.raise"))
        background.pop("all", None)
        total = table.get("all", {}).get("requests", 0)
        traffic_errors = [e for e in stats.errors if e["kind"] in TRAFFIC_KINDS]
        results.append(
            {
                "check": "no unexpected error in any request",
                "ok": not stats.errors,
                "detail": f"{len(traffic_errors)} in the traffic, "
                f"{len(stats.errors) - len(traffic_errors)} in the background",
            }
        )
        results.append(
            {
                "check": "crons settled (nothing due, no lead waiting with room)",
                "ok": settle["settled"],
                "detail": f"{settle}",
            }
        )
        if traffic.stopped_by_deadline:
            deadline.hit = True
    finally:
        server.stop()
    log = scan_log(
        logfile,
        str(Path(args.conf).resolve().parent.parent / "addons"),
        seed["our_cron_names"],
    )
    failed_crons = cron_failures_not_conflicts(log)
    ours = log["cron_failures"]["ours"]
    results.append(
        {
            "check": "our crons: no job failed, except on a concurrency conflict",
            "ok": not failed_crons,
            "detail": f"failures: {failed_crons or 'none'}; on conflicts: "
            f"{sum(ours.values()) - sum(failed_crons.values())}",
        }
    )
    results.append(
        {
            "check": "Odoo's log: no error in our addons' code",
            "ok": not log["errors"]["ours"],
            "detail": f"{log['errors']['ours'] or 'none'}",
        }
    )
    report = {
        "run": run,
        "database": args.db,
        "requests": total,
        "requests_asked": args.requests,
        "users": args.users,
        "traffic_seconds": round(traffic_seconds, 2),
        "requests_per_second": round(total / traffic_seconds, 2)
        if traffic_seconds
        else 0,
        "kinds": table,
        "background": background,
        "expected_rejections": [
            {"kind": kind, "message": message, "count": count}
            for (kind, message), count in stats.expected.most_common()
        ],
        "errors": stats.errors,
        "capacity": {"start": seed["capacity_start"], "raise": traffic.capacity_raise},
        "slots": seed["slots"],
        "settle": settle,
        "checks": results,
        "observations": observations,
        "odoo_log": log,
        "stopped_by_deadline": deadline.hit,
        "total_seconds": round(time.monotonic() - started, 1),
        "report_path": str(report_path),
    }
    report["passed"] = all(c["ok"] for c in results) and not deadline.hit
    report_path.write_text(json.dumps(report, indent=2, default=str))
    print_report(report)
    if deadline.hit:
        print(
            f"stopped by --max-seconds {args.max_seconds} before all requests were sent"
        )
        return 2
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
