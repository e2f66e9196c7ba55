#!/usr/bin/env python3
"""Stripe, as the billing tests see it: a local server that speaks Stripe's API wire format
(form-encoded POSTs, Bearer keys, Stripe's error objects) for the calls son1k makes, and a
webhook signer that is Stripe's own Python library.

  stripe_fake.py serve KEY        serve on 127.0.0.1, print the port; GET /_requests lists what was received
  stripe_fake.py sign SECRET T    print the Stripe-Signature header for stdin's payload at timestamp T
"""
import http.server
import json
import secrets
import sys
import threading
import time
import urllib.parse

import stripe

REQUIRED_CHECKOUT = ["mode", "line_items[0][price]", "line_items[0][quantity]", "success_url", "cancel_url", "client_reference_id"]


def stripe_error(message, param=None, status=400, kind="invalid_request_error"):
    body = {"error": {"type": kind, "message": message}}
    if param:
        body["error"]["param"] = param
    return status, body


class Stripe(http.server.BaseHTTPRequestHandler):
    key = ""
    received = []
    sessions_by_idempotency_key = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_" + secrets.token_hex(7))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/_requests":
            with Stripe.lock:
                return self.answer(200, {"requests": Stripe.received})
        self.answer(*stripe_error(f"Unrecognized request URL (GET: {self.path}).", status=404))

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        fields = urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=bool(raw))
        with Stripe.lock:
            Stripe.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "form": fields})
        self.answer(*self.route(self.path, dict(fields)))

    def route(self, path, form):
        if self.headers.get("Authorization") != f"Bearer {Stripe.key}":
            return stripe_error("Invalid API Key provided.", status=401)
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return stripe_error("Invalid request: the body must be form-encoded.")
        if path == "/v1/checkout/sessions":
            return self.checkout(form)
        if path == "/v1/billing_portal/sessions":
            if not form.get("customer"):
                return stripe_error("Missing required param: customer.", "customer")
            sid = "bps_" + secrets.token_hex(12)
            return 200, {"id": sid, "object": "billing_portal.session", "customer": form["customer"], "livemode": False,
                         "return_url": form.get("return_url"), "url": f"https://billing.stripe.com/p/session/test_{sid}",
                         "created": int(time.time())}
        return stripe_error(f"Unrecognized request URL (POST: {path}).", status=404)

    def checkout(self, form):
        for name in REQUIRED_CHECKOUT:
            if not form.get(name):
                return stripe_error(f"Missing required param: {name}.", name)
        if form["mode"] != "subscription":
            return stripe_error("This fake expects subscription mode.", "mode")
        if form["line_items[0][price]"] == "price_missing":
            return stripe_error("No such price: 'price_missing'", "line_items[0][price]")
        key = self.headers.get("Idempotency-Key")
        with Stripe.lock:
            if key and key in Stripe.sessions_by_idempotency_key:
                return 200, Stripe.sessions_by_idempotency_key[key]
        sid = "cs_test_" + secrets.token_hex(16)
        session = {
            "id": sid, "object": "checkout.session", "mode": "subscription", "status": "open", "payment_status": "unpaid",
            "client_reference_id": form["client_reference_id"], "customer": form.get("customer"),
            "metadata": {k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "success_url": form["success_url"], "cancel_url": form["cancel_url"], "livemode": False,
            "url": f"https://checkout.stripe.com/c/pay/{sid}", "created": int(time.time()), "expires_at": int(time.time()) + 86400,
        }
        with Stripe.lock:
            if key:
                Stripe.sessions_by_idempotency_key[key] = session
        return 200, session


def main():
    if sys.argv[1] == "sign":
        payload = sys.stdin.read()
        print(stripe.WebhookSignature.generate_signature_header(payload, sys.argv[2], timestamp=int(sys.argv[3])))
        return
    Stripe.key = sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stripe)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
