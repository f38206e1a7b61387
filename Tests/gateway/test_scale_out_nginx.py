"""Scale-out behind nginx on loopback: two gateways, each over its own cartridged, behind one
nginx upstream. Requests spread over both; stopping one gateway (SIGTERM, graceful) loses no
request: the ones it had started finish, later ones go to the other gateway.
See docs/SCALING.md for the configuration this test uses."""
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

NGINX_CONFIGURATION = """
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream cartridge_gateways {{
        least_conn;
        server 127.0.0.1:{first} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:{second} max_fails=1 fail_timeout=5s;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 8m;
        location / {{
            proxy_pass http://cartridge_gateways;
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_read_timeout 300s;
            proxy_next_upstream error timeout http_502 http_503;
        }}
    }}
}}
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url, predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                body = json.load(reply)
                if predicate(body):
                    return body
        except Exception:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready within {timeout} s")


def post(url, body, timeout=60):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return reply.status, json.load(reply)


def metric(url, name, label):
    with urllib.request.urlopen(url + "/metrics", timeout=5) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(name) and label in line:
                return float(line.split()[-1])
    return 0.0


@pytest.fixture
def stack(bin_dir):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    daemon_arguments = json.loads(os.environ["GATEWAY_COMPLETION_DAEMON"])
    work = tempfile.mkdtemp(prefix="gateway-nginx-")
    processes = []
    try:
        gateways = []
        for index in range(2):
            socket_path = os.path.join(work, f"cartridge{index}.sock")
            processes.append(subprocess.Popen(
                [os.path.join(bin_dir, "cartridged"), *daemon_arguments, "--socket", socket_path, "--log-level", "warning"]))
            port = free_port()
            gateway = subprocess.Popen(
                [os.path.join(bin_dir, "cartridge"), "serve", "--listen", f"127.0.0.1:{port}", "--no-usb",
                 "--connect", f"unix:{socket_path}", "--log-level", "warning"],
                stdout=subprocess.DEVNULL)
            processes.append(gateway)
            gateways.append((f"http://127.0.0.1:{port}", gateway))
        for url, _ in gateways:
            wait_for(url + "/health", lambda body: body.get("cartridges") == 1)
        port = free_port()
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(work, name), exist_ok=True)
        configuration = os.path.join(work, "nginx.conf")
        with open(configuration, "w") as file:
            file.write(NGINX_CONFIGURATION.format(
                work=work, port=port, first=gateways[0][0].rsplit(":", 1)[1], second=gateways[1][0].rsplit(":", 1)[1]))
        processes.append(subprocess.Popen([nginx, "-c", configuration, "-p", work]))
        balancer = f"http://127.0.0.1:{port}"
        wait_for(balancer + "/health", lambda body: body.get("status") == "ok")
        yield balancer, gateways
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(work, ignore_errors=True)


def test_requests_spread_and_stopping_one_gateway_loses_none(stack):
    balancer, gateways = stack
    with urllib.request.urlopen(balancer + "/v1/models", timeout=10) as reply:
        model = json.load(reply)["data"][0]["id"]
    body = {"model": model, "prompt": "Once upon a time", "max_tokens": 24, "temperature": 0}

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: post(balancer + "/v1/completions", body), range(24)))
    assert all(status == 200 for status, _ in results)
    assert len({answer["choices"][0]["text"] for _, answer in results}) == 1, "same model, greedy: same text"
    served = [metric(url, "cartridge_gateway_requests_total", 'endpoint="/v1/completions"') for url, _ in gateways]
    assert sum(served) == 24 and min(served) >= 4, f"requests spread over both gateways: {served}"

    # A steady flow of requests; one gateway is stopped gracefully in the middle of it.
    outcomes = []

    def client(index):
        for _ in range(6):
            try:
                status, answer = post(balancer + "/v1/completions", body)
                outcomes.append(status if answer["choices"][0]["text"] else -1)
            except Exception as error:
                outcomes.append(repr(error))

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(client, index) for index in range(4)]
        time.sleep(0.3)
        gateways[0][1].send_signal(signal.SIGTERM)
        for future in futures:
            future.result()
    assert gateways[0][1].wait(timeout=15) == 0, "the stopped gateway exits cleanly"
    assert outcomes == [200] * 24, outcomes
