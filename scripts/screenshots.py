"""Screenshots of each addon's main screens, taken from the demo database.

Usage: screenshots.py BASE_URL DB OUT_DIR (run by scripts/screenshots.sh, which
serves the demo database first). Drives headless Chromium through the DevTools
protocol: signs in as admin, opens each screen, waits until its view has
rendered, and saves a PNG per screen.
"""

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import requests
import websocket

WIDTH, HEIGHT = 1440, 900
DASHBOARDS = "/odoo/action-spreadsheet_dashboard.ir_actions_dashboard_action"
# (file, what it shows, path, CSS selector showing the view has rendered, the text of
# the item to click then, if any)
SCREENS = [
    (
        "crm-pipeline",
        "Sales pipeline",
        "/odoo/action-crm.crm_lead_action_pipeline",
        ".o_kanban_record",
        None,
    ),
    (
        "crm-customer-360",
        "Customer 360°",
        "/odoo/contacts/{partner}",
        ".o_form_view .o_form_sheet",
        "Customer 360°",
    ),
    (
        "crm-forecast",
        "Forecast",
        "/odoo/action-crm_core.crm_forecast_report_action",
        ".o_view_controller",
        None,
    ),
    (
        "support-tickets",
        "Support tickets",
        "/odoo/action-crm_support.crm_ticket_action",
        ".o_kanban_record, .o_data_row",
        None,
    ),
    (
        "marketing-journeys",
        "Nurturing journeys",
        "/odoo/action-crm_marketing.crm_marketing_journey_action",
        ".o_kanban_record, .o_data_row",
        None,
    ),
    (
        "marketing-roi",
        "Campaign ROI",
        "/odoo/action-crm_marketing.crm_marketing_roi_report_action",
        ".o_view_controller",
        None,
    ),
    (
        "clinic-appointments",
        "Clinic appointments",
        "/odoo/action-crm_healthcare.crm_healthcare_appointment_action",
        ".o_calendar_renderer, .o_kanban_record, .o_data_row",
        None,
    ),
    (
        "retail-recommendations",
        "Recommendations",
        "/odoo/action-crm_retail.crm_retail_recommendation_action",
        ".o_kanban_record, .o_data_row",
        None,
    ),
    ("dashboard-crm", "CRM dashboard", DASHBOARDS, ".o-spreadsheet", "CRM"),
    ("dashboard-support", "Support dashboard", DASHBOARDS, ".o-spreadsheet", "Support"),
    (
        "dashboard-marketing",
        "Marketing dashboard",
        DASHBOARDS,
        ".o-spreadsheet",
        "Marketing",
    ),
    ("dashboard-clinic", "Clinic dashboard", DASHBOARDS, ".o-spreadsheet", "Clinic"),
    ("dashboard-retail", "Retail dashboard", DASHBOARDS, ".o-spreadsheet", "Retail"),
]

# Clicks the innermost element whose text is exactly the given one.
CLICK_TEXT = """(text) => {
    const found = [...document.querySelectorAll("aside *, .o_search_panel *, li, a")]
        .filter((el) => el.textContent.trim() === text && !el.querySelector("*"));
    if (found.length) { found[0].click(); return true; }
    return false;
}"""


def rpc(session, url, model, method, *args, **kwargs):
    response = session.post(
        f"{url}/web/dataset/call_kw",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": kwargs,
            },
        },
        timeout=60,
    ).json()
    if "error" in response:
        raise RuntimeError(response["error"]["data"]["message"])
    return response["result"]


def sign_in(url, db):
    session = requests.Session()
    response = session.post(
        f"{url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"db": db, "login": "admin", "password": "admin"},
        },
        timeout=60,
    ).json()
    if not response.get("result", {}).get("uid"):
        sys.exit("could not sign in as admin/admin on the demo database")
    return session


def showcase_partner(session, url):
    """The demo customer with the most invoices: the fullest 360° view."""
    groups = rpc(
        session,
        url,
        "account.move",
        "read_group",
        [("move_type", "=", "out_invoice"), ("state", "=", "posted")],
        ["commercial_partner_id"],
        ["commercial_partner_id"],
        orderby="commercial_partner_id_count desc",
        limit=1,
    )
    return groups[0]["commercial_partner_id"][0] if groups else 1


class Chromium:
    def __init__(self):
        binary = next(
            (
                shutil.which(name)
                for name in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(name)
            ),
            None,
        )
        if not binary:
            sys.exit(
                "no Chromium found: run `make test` once (it installs it) or install it"
            )
        self.profile = tempfile.mkdtemp(prefix="crm-shots-")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-port=9333",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{HEIGHT}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(100):
            try:
                with urllib.request.urlopen("http://127.0.0.1:9333/json") as answer:
                    pages = [t for t in json.load(answer) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("Chromium did not start")
        self.socket = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=60
        )
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def wait_for(self, selector, timeout=30):
        expression = f"!!document.querySelector({json.dumps(selector)})"
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.call(
                "Runtime.evaluate", expression=expression, returnByValue=True
            )
            if found.get("result", {}).get("value"):
                return True
            time.sleep(0.25)
        return False

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main(url, db, out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    session = sign_in(url, db)
    partner = showcase_partner(session, url)
    browser = Chromium()
    failed = []
    try:
        browser.call("Network.enable")
        browser.call(
            "Network.setCookie",
            name="session_id",
            value=session.cookies["session_id"],
            url=url,
        )
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        for name, title, path, selector, click in SCREENS:
            browser.call("Page.navigate", url=url + path.format(partner=partner))
            rendered = browser.wait_for(selector)
            if rendered and click:
                clicked = browser.call(
                    "Runtime.evaluate",
                    expression=f"({CLICK_TEXT})({json.dumps(click)})",
                    returnByValue=True,
                )
                rendered = clicked.get("result", {}).get("value")
                time.sleep(2)  # the chosen dashboard loads its data
            if not rendered:
                failed.append(title)
                print(f"  {title}: did not render ({selector})")
                continue
            time.sleep(1.5)  # charts and images finish drawing
            shot = browser.call("Page.captureScreenshot", format="png")
            (out / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
            print(f"  {title}: {out / name}.png")
    finally:
        browser.close()
    if failed:
        sys.exit(f"{len(failed)} screen(s) did not render: {', '.join(failed)}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
