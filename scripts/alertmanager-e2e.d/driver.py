#!/usr/bin/env python3
"""Driver of scripts/alertmanager-e2e: a real Alertmanager 0.25 delivering to `triage-eval capture`.

Starts Alertmanager (alertmanager.yml beside this file) and `triage-eval capture` on free loopback ports, plays a
scripted scenario of real alerts through Alertmanager's API v2 (names, labels and annotations from the
kube-prometheus rules in shared/alertmanager/rules), SIGKILLs capture while Alertmanager has notifications to
send and restarts it on the same port and database, then checks the store against what the scenario implies.

Scenario (group_by [alertname, namespace], group_wait 1s, group_interval 2s, repeat_interval 6s, max_alerts 5):

  crashloop  KubePodCrashLooping/shop, pods A and B (+ C, silenced beforehand through /api/v2/silences)
             fire A+B -> A resolves (partial) -> the repeat without A -> [capture killed] B resolves
  storm      KubePodNotReady/shop: 12 pods at once (> max_alerts) -> one delivery with 5 alerts and
             truncatedAlerts 7, then only repeats (duplicates)
  flap       TargetDown/monitoring: fires, resolves, fires again (new startsAt) -> a second incident
  critical   KubePersistentVolumeFillingUp/payments, severity critical -> the child route's receiver
             (oncall-critical, path /critical): fires -> [capture killed] resolves

Every step waits (by polling the store) for the delivery it implies before the next, so the sequence of distinct
bodies per group is deterministic; only the number of repeats depends on timing.

Exit status: 0 every check passed, 1 a check failed, 2 a set-up error.
"""
import argparse
import datetime as dt
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = time.time()
MAX_ALERTS = 5  # as in alertmanager.yml
STORM_SIZE = 12
TOKEN_ENV = "ALERTMANAGER_E2E_TOKEN"


def say(msg):
    print(f"alertmanager-e2e: [{time.time() - T0:5.1f}s] {msg}", flush=True)


class SetupError(Exception):
    pass


def now():
    return dt.datetime.now(dt.timezone.utc)


def iso(t):
    return t.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(s):
    """RFC 3339 as Go writes it (up to nanoseconds, 'Z') -> aware datetime (microseconds)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", s)
    if not m:
        return None
    frac = (m.group(2) or "0")[:6].ljust(6, "0")
    return dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        microsecond=int(frac), tzinfo=dt.timezone.utc)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# Alerts: labels and annotations as kube-prometheus's rules (shared/alertmanager/rules/src_kp_*.yaml) render them
# ---------------------------------------------------------------------------------------------------------------

EXTERNAL_LABELS = {"cluster": "prod-eu1", "prometheus": "monitoring/k8s"}
PROMETHEUS_URL = "https://prometheus.prod-eu1.example.com"
RUNBOOKS = "https://runbooks.prometheus-operator.dev/runbooks/"


class Alert:
    def __init__(self, key, labels, annotations, expr):
        self.key = key
        self.labels = {**labels, **EXTERNAL_LABELS}
        self.annotations = annotations
        self.generator_url = (PROMETHEUS_URL + "/graph?g0.expr=" + urllib.parse.quote_plus(expr) + "&g0.tab=1")
        self.occurrences = []  # startsAt of each firing occurrence (a flap adds one)
        self.ends = None

    def fire(self, at):
        # startsAt = now: Alertmanager 0.25 flushes a new group at once (skipping group_wait) when its first alert
        # started more than group_wait ago, possibly before the rest of the batch arrived; with a fresh startsAt
        # the first delivery of every group holds the whole batch.
        self.occurrences.append(at)
        self.ends = None

    def resolve(self, at):
        self.ends = at

    def payload(self, at):
        return {"labels": self.labels, "annotations": self.annotations, "generatorURL": self.generator_url,
                "startsAt": iso(self.occurrences[-1]),
                # Prometheus sends endsAt = now + 4 x max(evaluation interval, resend delay) while firing.
                "endsAt": iso(self.ends if self.ends else at + dt.timedelta(minutes=4))}


def crashloop(key, pod):
    return Alert(key, {
        "alertname": "KubePodCrashLooping", "severity": "warning", "namespace": "shop", "pod": pod,
        "container": "checkout", "reason": "CrashLoopBackOff", "job": "kube-state-metrics",
        "instance": "10.42.3.17:8080", "endpoint": "http", "service": "kube-state-metrics"}, {
        "description": f'Pod shop/{pod} (checkout) is in waiting state (reason: "CrashLoopBackOff") on cluster '
                       'prod-eu1.',
        "runbook_url": RUNBOOKS + "kubernetes/kubepodcrashlooping",
        "summary": "Pod is crash looping."},
        'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", '
        'job="kube-state-metrics"}[5m]) >= 1')


def notready(key, pod):
    return Alert(key, {"alertname": "KubePodNotReady", "severity": "warning", "namespace": "shop", "pod": pod,
                       "job": "kube-state-metrics"}, {
        "description": f"Pod shop/{pod} has been in a non-ready state for longer than 15 minutes on cluster "
                       "prod-eu1.",
        "runbook_url": RUNBOOKS + "kubernetes/kubepodnotready",
        "summary": "Pod has been in a non-ready state for more than 15 minutes."},
        'sum by (namespace, pod, job, cluster) (max by (namespace, pod, job, cluster) '
        '(kube_pod_status_phase{job="kube-state-metrics",phase=~"Pending|Unknown"})) > 0')


def targetdown(key):
    return Alert(key, {"alertname": "TargetDown", "severity": "warning", "namespace": "monitoring",
                       "job": "node-exporter", "service": "node-exporter"}, {
        "description": "33.33% of the node-exporter/node-exporter targets in monitoring namespace are down.",
        "runbook_url": RUNBOOKS + "general/targetdown",
        "summary": "One or more targets are unreachable."},
        "100 * (count by (cluster, job, namespace, service) (up == 0) / count by (cluster, job, namespace, "
        "service) (up)) > 10")


def pvfilling(key):
    return Alert(key, {"alertname": "KubePersistentVolumeFillingUp", "severity": "critical",
                       "namespace": "payments", "persistentvolumeclaim": "data-postgres-0", "job": "kubelet",
                       "metrics_path": "/metrics", "service": "kubelet", "endpoint": "https-metrics",
                       "instance": "10.20.2.14:10250", "node": "ip-10-20-2-14.eu-west-1.compute.internal"}, {
        "description": "The PersistentVolume claimed by data-postgres-0 in Namespace payments on Cluster prod-eu1 "
                       "is only 2.1% free.",
        "runbook_url": RUNBOOKS + "kubernetes/kubepersistentvolumefillingup",
        "summary": "PersistentVolume is filling up."},
        '(kubelet_volume_stats_available_bytes{job="kubelet", metrics_path="/metrics"} / '
        'kubelet_volume_stats_capacity_bytes{job="kubelet", metrics_path="/metrics"}) < 0.03 and '
        'kubelet_volume_stats_used_bytes{job="kubelet", metrics_path="/metrics"} > 0')


class Group:
    """An Alertmanager aggregation group as the route implies it: receiver, groupKey, the path capture sees."""

    def __init__(self, name, receiver, route_path, path, group_labels):
        self.name, self.receiver, self.path = name, receiver, path
        labels = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(group_labels.items()))
        self.group_key = f"{route_path}:{{{labels}}}"
        self.expected = []      # the distinct deliveries the scenario implies, in order
        self.incidents = []     # expected incident statuses, in order of opening


# ---------------------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------------------

class Processes:
    """Children, and a pid file the bash wrapper's trap reads to stop them if the driver dies."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "pids")
        self.live = {}

    def add(self, name, proc):
        self.live[name] = proc
        self._write()

    def remove(self, name):
        self.live.pop(name, None)
        self._write()

    def _write(self):
        with open(self.path, "w") as f:
            f.write("".join(f"{p.pid}\n" for p in self.live.values()))

    def stop_all(self):
        for name, proc in list(self.live.items()):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            self.remove(name)


class Capture:
    def __init__(self, binary, port, db, token, workdir, procs):
        self.binary, self.port, self.db, self.token = binary, port, db, token
        self.workdir, self.procs = workdir, procs
        self.proc = None
        self.logs = []

    def start(self):
        n = len(self.logs) + 1
        log_path = os.path.join(self.workdir, f"capture-{n}.log")
        self.logs.append(log_path)
        for attempt in range(20):  # the port may be briefly unavailable right after a SIGKILL
            log = open(log_path, "w")
            self.proc = subprocess.Popen(
                [self.binary, "capture", "--listen", f"127.0.0.1:{self.port}", "--db", self.db,
                 "--corpus", "alertmanager-e2e", "--max-body-bytes", "1048576", "--bearer-token-env", TOKEN_ENV],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, TOKEN_ENV: self.token})
            log.close()
            self.procs.add("capture", self.proc)
            deadline = time.time() + 30
            while time.time() < deadline:
                text = open(log_path).read()
                if "capture: listening on" in text:
                    say(f"capture #{n} pid {self.proc.pid} listening on 127.0.0.1:{self.port} (log {log_path})")
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
            else:
                raise SetupError(f"capture did not start listening in 30s; see {log_path}")
            self.procs.remove("capture")
            if "cannot listen" in text and attempt < 19:
                say(f"capture could not listen yet ({text.strip().splitlines()[-1]}); retrying")
                time.sleep(0.5)
                continue
            raise SetupError(f"capture exited with {self.proc.returncode}: {text.strip()}")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.procs.remove("capture")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            say("capture did not stop within 20s of SIGTERM; killed")
        self.procs.remove("capture")
        return rc


def http(method, url, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# ---------------------------------------------------------------------------------------------------------------
# The store, read while capture writes (WAL)
# ---------------------------------------------------------------------------------------------------------------

def read_store(db):
    if not os.path.exists(db):
        return None
    con = sqlite3.connect(db, timeout=10)
    try:
        q = lambda sql: [dict(zip([c[0] for c in cur.description], row)) for cur in [con.execute(sql)] for row in cur]
        try:
            return {
                "delivery": q("SELECT id, sha256, CAST(body AS TEXT) AS body, receiver, groupKey, status, alertCount, truncatedAlerts, "
                              "source, receivedAt, incidentId FROM delivery ORDER BY id"),
                "deliveryRepeat": q("SELECT deliveryId, source, receivedAt FROM deliveryRepeat ORDER BY rowid"),
                "incident": q("SELECT id, receiver, groupKey, startsAt, status, firstDeliveryId, lastDeliveryId, "
                              "deliveryCount FROM incident ORDER BY firstDeliveryId"),
                "quarantine": q("SELECT source, reason FROM quarantine"),
                "alert": q("SELECT deliveryId, fingerprint, status, alertname FROM alert"),
            }
        except sqlite3.OperationalError:  # not migrated yet
            return None
    finally:
        con.close()


class Scenario:
    def __init__(self, am_url, db, workdir):
        self.am, self.db, self.workdir = am_url, db, workdir
        self.a = crashloop("crash-A", "checkout-6d8f7c9b5-x2k9p")
        self.b = crashloop("crash-B", "checkout-6d8f7c9b5-q7m4z")
        self.c = crashloop("crash-C-silenced", "checkout-6d8f7c9b5-lw5hn")
        self.storm = [notready(f"notready-{i:02d}", f"catalog-5c8f9d7b6-{p}") for i, p in enumerate(
            ["b2x7k", "c9q4m", "d5t8n", "f3w6p", "g7z2r", "h4k9s", "j8m3t", "k2p7v", "l6r4w", "m9s8x", "n3v5z",
             "p7x2b"])]
        assert len(self.storm) == STORM_SIZE
        self.x = targetdown("targetdown-node-exporter")
        self.p = pvfilling("pv-data-postgres-0")
        self.alerts = [self.a, self.b, self.c, *self.storm, self.x, self.p]
        self.by_labels = {frozenset(al.labels.items()): al for al in self.alerts}
        root, child = "{}", '{}/{severity="critical"}'
        self.g_crash = Group("crashloop", "sre-webhook", root, "/alerts",
                             {"alertname": "KubePodCrashLooping", "namespace": "shop"})
        self.g_storm = Group("storm", "sre-webhook", root, "/alerts",
                             {"alertname": "KubePodNotReady", "namespace": "shop"})
        self.g_flap = Group("flap", "sre-webhook", root, "/alerts",
                            {"alertname": "TargetDown", "namespace": "monitoring"})
        self.g_crit = Group("critical", "oncall-critical", child, "/critical",
                            {"alertname": "KubePersistentVolumeFillingUp", "namespace": "payments"})
        self.groups = [self.g_crash, self.g_storm, self.g_flap, self.g_crit]
        self.silence_id = None
        self.waits_timed_out = []

    # --- Alertmanager API ---
    def post(self, alerts, what):
        at = now()
        status, body = http("POST", self.am + "/api/v2/alerts", [al.payload(at) for al in alerts])
        if status != 200:
            raise SetupError(f"POST /api/v2/alerts ({what}): HTTP {status}: {body[:300]!r}")
        say(f"sent {len(alerts)} alert(s) to Alertmanager: {what}")

    def fire(self, alerts, what):
        at = now()
        for al in alerts:
            al.fire(at)
        self.post(alerts, what)

    def resolve(self, alerts, what):
        at = now()
        for al in alerts:
            al.resolve(at)
        self.post(alerts, what)

    def add_silence(self, alert):
        matchers = [{"name": k, "value": alert.labels[k], "isRegex": False, "isEqual": True}
                    for k in ("alertname", "namespace", "pod")]
        start = now()
        status, body = http("POST", self.am + "/api/v2/silences", {
            "matchers": matchers, "startsAt": iso(start), "endsAt": iso(start + dt.timedelta(hours=1)),
            "createdBy": "alertmanager-e2e", "comment": "maintenance: pod being drained"})
        if status != 200:
            raise SetupError(f"POST /api/v2/silences: HTTP {status}: {body[:300]!r}")
        self.silence_id = json.loads(body)["silenceID"]
        ok = self.wait(f"silence {self.silence_id} active", 10, lambda: json.loads(
            http("GET", f"{self.am}/api/v2/silence/{self.silence_id}")[1])["status"]["state"] == "active")
        if not ok:
            raise SetupError("the silence did not become active")
        say(f"silence {self.silence_id} active for pod={alert.labels['pod']}")

    # --- what the store holds ---
    def state(self, delivery):
        """A delivery as (status, truncatedAlerts, [(alert key, occurrence, alert status), ...])."""
        body = json.loads(delivery["body"])
        alerts = []
        for a in body.get("alerts", []):
            al = self.by_labels.get(frozenset(a["labels"].items()))
            if al is None:
                alerts.append((f"unknown:{a.get('fingerprint')}", 0, a["status"]))
                continue
            starts = parse_time(a["startsAt"])
            occ = next((i + 1 for i, t in enumerate(al.occurrences)
                        if starts and abs((starts - t).total_seconds()) < 0.002), 0)
            alerts.append((al.key, occ, a["status"]))
        return body["status"], body.get("truncatedAlerts", 0), sorted(alerts)

    def group_states(self, store, group):
        return [self.state(d) for d in (store or {}).get("delivery", [])
                if d["receiver"] == group.receiver and d["groupKey"] == group.group_key]

    def expect(self, group, status, alerts=None, truncated=0, sample_of=None, count=None):
        group.expected.append({"status": status, "truncated": truncated,
                               "alerts": sorted(alerts) if alerts is not None else None,
                               "sample_of": sample_of, "count": count})

    @staticmethod
    def matches(exp, st):
        status, truncated, alerts = st
        if status != exp["status"] or truncated != exp["truncated"]:
            return False
        if exp["alerts"] is not None:
            return alerts == exp["alerts"]
        return len(alerts) == exp["count"] and all(
            k in exp["sample_of"] and occ == 1 and s == "firing" for k, occ, s in alerts)

    @staticmethod
    def describe(exp):
        if exp["alerts"] is not None:
            inner = ", ".join(f"{k}#{o} {s}" for k, o, s in exp["alerts"])
        else:
            inner = f"{exp['count']} of the {len(exp['sample_of'])} storm alerts firing"
        return f"{exp['status']} [{inner}] truncated={exp['truncated']}"

    @staticmethod
    def describe_state(st):
        return f"{st[0]} [{', '.join(f'{k}#{o} {s}' for k, o, s in st[2])}] truncated={st[1]}"

    def wait(self, what, timeout, predicate):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if predicate():
                    return True
            except (OSError, ValueError, KeyError, sqlite3.Error):
                pass
            time.sleep(0.2)
        say(f"gave up waiting for {what} after {timeout}s")
        self.waits_timed_out.append(what)
        return False

    def wait_expected(self, groups, timeout=30):
        """Waits until each group's store holds its latest expected delivery."""
        def done():
            store = read_store(self.db)
            return all(any(self.matches(g.expected[-1], st) for st in self.group_states(store, g)) for g in groups)
        what = "; ".join(f"{g.name}: {self.describe(g.expected[-1])}" for g in groups)
        if self.wait(what, timeout, done):
            say(f"stored: {what}")


# ---------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the triage-eval binary")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--alertmanager", default="prometheus-alertmanager")
    args = ap.parse_args()
    procs = Processes(args.workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the `finally` below: stop the children
    try:
        return run(args, procs)
    except SetupError as e:
        say(f"set-up error: {e}")
        return 2
    except Exception:  # a bug or an environment surprise, not a failed check
        import traceback
        traceback.print_exc()
        say("internal error")
        return 2
    finally:
        procs.stop_all()


def run(args, procs):
    work = args.workdir
    db = os.path.join(work, "capture.sqlite")
    token = secrets.token_urlsafe(24)
    cap_port, am_port = free_port(), free_port()
    while am_port == cap_port:
        am_port = free_port()
    am_url = f"http://127.0.0.1:{am_port}"
    cfg = open(os.path.join(HERE, "alertmanager.yml")).read() \
        .replace("@CAPTURE_URL@", f"http://127.0.0.1:{cap_port}").replace("@TOKEN@", token)
    cfg_path = os.path.join(work, "alertmanager.yml")
    with open(cfg_path, "w") as f:
        f.write(cfg)
    os.chmod(cfg_path, 0o600)
    check = subprocess.run(["amtool", "check-config", cfg_path], capture_output=True, text=True)
    if check.returncode != 0:
        raise SetupError(f"amtool check-config: {check.stdout}{check.stderr}")
    version = subprocess.run([args.alertmanager, "--version"], capture_output=True, text=True)
    say((version.stdout + version.stderr).splitlines()[0])

    capture = Capture(args.bin, cap_port, db, token, work, procs)
    capture.start()
    # Without the token capture refuses (401) and stores nothing.
    status, _ = http("POST", f"http://127.0.0.1:{cap_port}/alerts", {"receiver": "x"})
    say(f"POST without the bearer token: HTTP {status}")
    unauthorized = status

    am_log_path = os.path.join(work, "alertmanager.log")
    os.makedirs(os.path.join(work, "am-data"), exist_ok=True)
    am_log = open(am_log_path, "w")
    am = subprocess.Popen([args.alertmanager, f"--config.file={cfg_path}", f"--storage.path={work}/am-data",
                           f"--web.listen-address=127.0.0.1:{am_port}", f"--web.external-url={am_url}",
                           "--cluster.listen-address=", "--log.level=info"],
                          stdin=subprocess.DEVNULL, stdout=am_log, stderr=subprocess.STDOUT)
    am_log.close()
    procs.add("alertmanager", am)
    deadline = time.time() + 30
    while True:
        try:
            if http("GET", am_url + "/-/ready", timeout=2)[0] == 200:
                break
        except OSError:
            pass
        if am.poll() is not None or time.time() > deadline:
            raise SetupError(f"Alertmanager did not become ready; see {am_log_path}")
        time.sleep(0.1)
    say(f"Alertmanager pid {am.pid} ready on {am_url}")

    sc = Scenario(am_url, db, work)
    A, B, C, X, P = sc.a, sc.b, sc.c, sc.x, sc.p
    G1, G5, G3, G4 = sc.g_crash, sc.g_storm, sc.g_flap, sc.g_crit
    storm_keys = {al.key for al in sc.storm}

    # 1. A silence for pod C, then everything fires at once.
    sc.add_silence(C)
    sc.fire([A, B, C, *sc.storm, X, P], "KubePodCrashLooping x3 (C silenced), KubePodNotReady x12 (storm), "
                                         "TargetDown, KubePersistentVolumeFillingUp (critical)")
    sc.expect(G1, "firing", [("crash-A", 1, "firing"), ("crash-B", 1, "firing")])
    G1.incidents.append("resolved")
    sc.expect(G5, "firing", truncated=STORM_SIZE - MAX_ALERTS, sample_of=storm_keys, count=MAX_ALERTS)
    G5.incidents.append("open")
    sc.expect(G3, "firing", [(X.key, 1, "firing")])
    sc.expect(G4, "firing", [(P.key, 1, "firing")])
    G4.incidents.append("resolved")
    sc.wait_expected([G1, G5, G3, G4])

    # 2. Partial resolve (A of A+B) and the flap's first resolve.
    sc.resolve([A], "KubePodCrashLooping pod A recovers (partial resolve)")
    sc.resolve([X], "TargetDown resolves")
    sc.expect(G1, "firing", [("crash-A", 1, "resolved"), ("crash-B", 1, "firing")])
    sc.expect(G3, "resolved", [(X.key, 1, "resolved")])
    G3.incidents.append("resolved")
    sc.wait_expected([G1, G3])

    # 3. The flap: TargetDown fires again, with a new startsAt.
    sc.fire([X], "TargetDown fires again (flap)")
    sc.expect(G3, "firing", [(X.key, 2, "firing")])
    G3.incidents.append("open")
    sc.wait_expected([G3])

    # 4. repeat_interval: Alertmanager re-sends open groups. The crashloop group's repeat no longer lists A (a
    #    resolved alert leaves the group once notified): a new body; the storm's repeats are byte-identical.
    sc.expect(G1, "firing", [("crash-B", 1, "firing")])
    sc.wait_expected([G1], timeout=40)
    sc.wait("a repeated delivery (deliveryRepeat)", 40, lambda: len(read_store(db)["deliveryRepeat"]) > 0)

    # 5. SIGKILL capture, then give Alertmanager notifications to send: B and the critical alert resolve.
    #    The kill falls between group_interval ticks: a POST cut off after capture committed and logged it
    #    would be retried (a duplicate, nothing lost) but would make Alertmanager's count of successful
    #    requests differ from capture's by one.
    kill_between_ticks(read_store(db), sc)
    killed_at = time.time()
    am_log_offset = os.path.getsize(am_log_path)
    capture.kill9()
    say("capture killed with SIGKILL")
    sc.resolve([B], "KubePodCrashLooping pod B recovers (the group resolves)")
    sc.resolve([P], "KubePersistentVolumeFillingUp resolves (critical)")
    sc.expect(G1, "resolved", [("crash-B", 1, "resolved")])
    sc.expect(G4, "resolved", [(P.key, 1, "resolved")])

    def failed_attempts():
        text = open(am_log_path).read()[am_log_offset:]
        return [ln for ln in text.splitlines() if 'msg="Notify attempt failed, will retry later"' in ln]
    sc.wait("a failed notify attempt for both receivers in Alertmanager's log", 20,
            lambda: all(f"receiver={r}" in "\n".join(failed_attempts()) for r in ("sre-webhook", "oncall-critical")))
    for ln in failed_attempts():
        say("alertmanager: " + ln)

    # 6. Restart capture on the same port and database; Alertmanager's retries must deliver everything.
    restarted_at = time.time()
    capture.start()
    sc.wait_expected([G1, G4], timeout=40)
    # A repeat of a body stored before the kill, deduplicated by the restarted capture (from the store).
    def repeat_across_restart():
        store = read_store(db)
        before = {d["id"] for d in store["delivery"] if d["receivedAt"] and d["receivedAt"] < killed_at}
        return any(r["deliveryId"] in before and r["receivedAt"] and r["receivedAt"] > restarted_at
                   for r in store["deliveryRepeat"])
    if sc.wait("a repeat of a pre-kill delivery, received after the restart", 40, repeat_across_restart):
        say("stored: a repeat of a pre-kill delivery, deduplicated after the restart")

    # 7. Stop capture cleanly, then read Alertmanager's own counts and the silenced alert's state.
    rc = capture.stop()
    say(f"capture stopped with SIGTERM (exit {rc})")
    # Read the counters until two reads agree: a request counted but not yet failed would be off by one.
    metrics = http("GET", am_url + "/metrics")[1].decode()
    for _ in range(10):
        time.sleep(0.3)
        again = http("GET", am_url + "/metrics")[1].decode()
        counts = lambda t: (metric(t, "alertmanager_notification_requests_total"),
                            metric(t, "alertmanager_notification_requests_failed_total"))
        if counts(again) == counts(metrics):
            break
        metrics = again
    am_alerts = json.loads(http("GET", am_url + "/api/v2/alerts")[1])
    am.terminate()
    am.wait(timeout=15)
    procs.remove("alertmanager")
    am_text = open(am_log_path).read()
    say(f"Alertmanager stopped; {time.time() - T0:.0f}s in all")

    return verify(sc, db, capture, rc, unauthorized, metrics, am_alerts, am_text[am_log_offset:], killed_at,
                  restarted_at)


GROUP_INTERVAL = 2.0  # as in alertmanager.yml


def kill_between_ticks(store, sc):
    """Sleeps until the moment, within one group_interval, farthest from every group's next flush (each group
    flushes on its own timer, every group_interval from its creation; its last receive time gives the phase)."""
    last = {}
    by_id = {d["id"]: d for d in store["delivery"]}
    for d in store["delivery"]:
        last[(d["receiver"], d["groupKey"])] = max(last.get((d["receiver"], d["groupKey"]), 0), d["receivedAt"] or 0)
    for r in store["deliveryRepeat"]:
        d = by_id[r["deliveryId"]]
        last[(d["receiver"], d["groupKey"])] = max(last.get((d["receiver"], d["groupKey"]), 0), r["receivedAt"] or 0)
    phases = [t % GROUP_INTERVAL for t in last.values() if t]
    start = time.time() + 0.05
    best, margin = start, -1.0
    for i in range(40):
        t = start + GROUP_INTERVAL * i / 40
        m = min(min((t - p) % GROUP_INTERVAL, (p - t) % GROUP_INTERVAL) for p in phases) if phases else 1.0
        if m > margin:
            best, margin = t, m
    time.sleep(max(0.0, best - time.time()))
    say(f"killing capture {margin:.2f}s away from the nearest expected flush")


def metric(text, name):
    total = 0.0
    for ln in text.splitlines():
        if ln.startswith(name + "{") and 'integration="webhook"' in ln:
            total += float(ln.rsplit(" ", 1)[1])
    return int(total)


def verify(sc, db, capture, capture_rc, unauthorized, metrics, am_alerts, am_log_after_kill, killed_at, restarted_at):
    failures = []

    def check(ok, what):
        say(("ok: " if ok else "FAIL: ") + what)
        if not ok:
            failures.append(what)

    store = read_store(db)
    deliveries, repeats, incidents = store["delivery"], store["deliveryRepeat"], store["incident"]
    say(f"store: {len(deliveries)} deliveries, {len(repeats)} repeats, {len(incidents)} incidents, "
        f"{len(store['quarantine'])} quarantined")

    check(not sc.waits_timed_out, f"every awaited step happened in time (timed out: {sc.waits_timed_out or 'none'})")

    # Every group's distinct deliveries, in order, are what the scenario implies; nothing else was delivered.
    expected_groups = {(g.receiver, g.group_key) for g in sc.groups}
    stray = [(d["id"], d["receiver"], d["groupKey"]) for d in deliveries
             if (d["receiver"], d["groupKey"]) not in expected_groups]
    check(not stray, f"every delivery belongs to an expected (receiver, groupKey) ({len(stray)} do not: {stray})")
    receivers = sorted({d["receiver"] for d in deliveries})
    check(receivers == sorted({g.receiver for g in sc.groups}),
          f"receivers {receivers} == {sorted({g.receiver for g in sc.groups})}")
    for g in sc.groups:
        got = sc.group_states(store, g)
        ok = len(got) == len(g.expected) and all(sc.matches(e, s) for e, s in zip(g.expected, got))
        check(ok, f"{g.name} ({g.receiver} {g.group_key}): its {len(got)} distinct deliveries are the "
                  f"{len(g.expected)} the scenario implies, in order")
        if not ok:
            for i in range(max(len(got), len(g.expected))):
                e = sc.describe(g.expected[i]) if i < len(g.expected) else "-"
                s = sc.describe_state(got[i]) if i < len(got) else "-"
                say(f"    #{i + 1} expected {e}\n{'':24}got      {s}")
        rows = [d for d in deliveries if (d["receiver"], d["groupKey"]) == (g.receiver, g.group_key)]
        paths = sorted({re.sub(r"#.*", "", d["source"] or "") for d in rows}
                       | {re.sub(r"#.*", "", r["source"] or "") for r in repeats
                          if r["deliveryId"] in {d["id"] for d in rows}})
        check(paths == [f"capture:{g.path}"], f"{g.name}: received on {paths}, expected ['capture:{g.path}']")
        inc = [i for i in incidents if (i["receiver"], i["groupKey"]) == (g.receiver, g.group_key)]
        check([i["status"] for i in inc] == g.incidents,
              f"{g.name}: incidents {[i['status'] for i in inc]}, expected {g.incidents}")

    missing_inc = [d["id"] for d in deliveries if not d["incidentId"]]
    check(not missing_inc, f"every delivery belongs to an incident ({len(missing_inc)} do not)")
    no_time = [d["id"] for d in deliveries if d["receivedAt"] is None]
    check(not no_time, f"every delivery has its receive time ({len(no_time)} without)")

    # The flap: two incidents of one group, the second opened by the new occurrence.
    flap = [i for i in incidents if i["groupKey"] == sc.g_flap.group_key]
    starts = [parse_time(i["startsAt"]) for i in flap]
    check(len(flap) == 2 and len(sc.x.occurrences) == 2 and all(
        s and abs((s - t).total_seconds()) < 0.002 for s, t in zip(starts, sc.x.occurrences)),
        f"flap: {len(flap)} incidents starting at {[i['startsAt'] for i in flap]}, expected 2 starting at "
        f"{[iso(t) for t in sc.x.occurrences]}")

    # The storm: max_alerts truncation.
    storm = [d for d in deliveries if d["groupKey"] == sc.g_storm.group_key]
    bad = [(d["alertCount"], d["truncatedAlerts"]) for d in storm
           if (d["alertCount"], d["truncatedAlerts"]) != (MAX_ALERTS, STORM_SIZE - MAX_ALERTS)]
    check(storm and not bad, f"storm: {len(storm)} delivery(ies), {len(bad)} not with alertCount {MAX_ALERTS} "
                             f"and truncatedAlerts {STORM_SIZE} - {MAX_ALERTS} = {STORM_SIZE - MAX_ALERTS} {bad}")

    # The silence: Alertmanager had the alert, suppressed by our silence, and no body carries it.
    c_am = [a for a in am_alerts if a["labels"].get("pod") == sc.c.labels["pod"]]
    check(len(c_am) == 1 and c_am[0]["status"]["state"] == "suppressed"
          and c_am[0]["status"]["silencedBy"] == [sc.silence_id],
          f"silence: Alertmanager holds the silenced alert as suppressed by {sc.silence_id} "
          f"(got {[a['status'] for a in c_am]})")
    fp = c_am[0]["fingerprint"] if c_am else None
    in_bodies = [d["id"] for d in deliveries if sc.c.labels["pod"] in d["body"] or (fp and fp in d["body"])]
    in_alerts = [a["deliveryId"] for a in store["alert"] if a["fingerprint"] == fp]
    check(not in_bodies and not in_alerts,
          f"silence: the silenced alert ({fp}) is in no stored body ({len(in_bodies) + len(in_alerts)} found)")

    check(len(repeats) > 0, f"repeats recorded in deliveryRepeat: {len(repeats)} > 0")
    check(not store["quarantine"], f"nothing quarantined ({len(store['quarantine'])})")

    # Accounting: every POST capture acknowledged is a delivery or a deliveryRepeat, and matches Alertmanager's
    # own count of successful webhook requests.
    lines = []
    for path in capture.logs:
        lines += [m.groups() for m in re.finditer(r"^capture: #(\d+) (\d{3}): (.*)$", open(path).read(), re.M)]
    acked = [ln for ln in lines if ln[1] == "200"]
    stored_lines = [ln for ln in acked if ln[2].startswith("stored delivery")]
    dup_lines = [ln for ln in acked if ln[2].startswith("duplicate of delivery")]
    other = [ln for ln in lines if ln[1] != "200"]
    say(f"capture logs: {len(lines)} requests: {len(acked)} answered 200 ({len(stored_lines)} stored, "
        f"{len(dup_lines)} duplicate), {len(other)} other {sorted({ln[1] for ln in other})}")
    check(len(acked) == len(deliveries) + len(repeats),
          f"acknowledged POSTs {len(acked)} == deliveries {len(deliveries)} + repeats {len(repeats)}")
    check(len(stored_lines) == len(deliveries) and len(dup_lines) == len(repeats),
          f"'stored' lines {len(stored_lines)} == deliveries {len(deliveries)}, "
          f"'duplicate' lines {len(dup_lines)} == repeats {len(repeats)}")
    check(unauthorized == 401 and [ln[1] for ln in other] == ["401"],
          f"the only request not answered 200 is the probe without a token, answered 401 "
          f"(probe {unauthorized}; others {[ln[1] + ' ' + ln[2] for ln in other]})")
    am_requests = metric(metrics, "alertmanager_notification_requests_total")
    am_failed = metric(metrics, "alertmanager_notification_requests_failed_total")
    say(f"Alertmanager: {am_requests} webhook requests, {am_failed} failed")
    check(am_requests - am_failed == len(acked),
          f"Alertmanager's successful webhook requests {am_requests} - {am_failed} = {am_requests - am_failed} "
          f"== acknowledged by capture {len(acked)}")
    summary = re.search(r"capture: (\d+) received: (\d+) stored, (\d+) duplicate, (\d+) quarantined, (\d+) refused",
                        open(capture.logs[-1]).read())
    second = [ln for ln in re.finditer(r"^capture: #\d+ (\d{3}): (\w+)", open(capture.logs[-1]).read(), re.M)]
    expect_summary = (len(second), sum(m.group(2) == "stored" for m in second),
                      sum(m.group(2) == "duplicate" for m in second), 0, 0)
    got_summary = tuple(int(x) for x in summary.groups()) if summary else None
    check(capture_rc == 0 and got_summary == expect_summary,
          f"the restarted capture stopped cleanly (exit {capture_rc}) reporting (received, stored, duplicate, "
          f"quarantined, refused) {got_summary} == its log's {expect_summary}")

    # The kill happened while Alertmanager had notifications to send: it logged failed attempts, then retried.
    failed = [ln for ln in am_log_after_kill.splitlines() if 'msg="Notify attempt failed, will retry later"' in ln]
    retried = [ln for ln in am_log_after_kill.splitlines()
               if 'msg="Notify success"' in ln and not re.search(r"attempts=1\b", ln)]
    gave_up = [ln for ln in am_log_after_kill.splitlines() if 'msg="Notify for alerts failed"' in ln]
    check(len(failed) > 0 and am_failed > 0,
          f"Alertmanager failed to notify while capture was down ({len(failed)} 'Notify attempt failed' lines, "
          f"{am_failed} failed requests)")
    for ln in retried + gave_up:
        say("alertmanager: " + ln)
    check(len(retried) > 0, f"Alertmanager's retries succeeded after the restart ({len(retried)} 'Notify success' "
                            f"after more than one attempt; {len(gave_up)} flushes gave up and were re-sent later)")
    after = [d for d in deliveries if d["receivedAt"] and d["receivedAt"] > restarted_at]
    check(any(d["groupKey"] == sc.g_crash.group_key and d["status"] == "resolved" for d in after)
          and any(d["groupKey"] == sc.g_crit.group_key and d["status"] == "resolved" for d in after),
          "the two resolves sent while capture was down were stored by the restarted capture")

    if failures:
        say(f"{len(failures)} check(s) failed")
        return 1
    say(f"all checks passed ({time.time() - T0:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
