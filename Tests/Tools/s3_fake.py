"""An S3 stand-in for the blob store tests: moto's server (PyPI `moto[server]`), which speaks
S3's wire format, with its signature checking switched on.

    s3_fake.py BUCKET

Prints one JSON line, {"port", "bucket", "access_key_id", "secret_access_key", "region"}, then
serves on 127.0.0.1 until killed. Before switching authentication on it creates an IAM user
allowed s3:* with an access key, and the bucket; from then on moto checks every request's
SigV4 `Authorization` header with botocore and refuses unknown keys and bad signatures.

moto cannot check a presigned URL while authentication is on (it looks for an Authorization
header and fails), so the WSGI layer below does what S3 does with one: it recomputes the
query signature with botocore's S3SigV4QueryAuth, refuses a wrong or expired one with 403, and
hands a valid one to moto as the same request signed in the header. `GET /_objects` lists the
bucket's keys and sizes (for the tests' own checks).
"""
import calendar
import hmac
import json
import sys
import threading
import time
from urllib.parse import unquote

import boto3
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

REGION = "us-east-1"
bucket = sys.argv[1] if len(sys.argv) > 1 else "son1k-blobs"
moto = DomainDispatcherApplication(create_backend_app)
keys = {}


def s3_error(start_response, status, code, message):
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def presigned(environ, start_response):
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ["PATH_INFO"]
    path, _, query = raw.partition("?")
    pairs = [p for p in query.split("&") if p]
    params = {k: unquote(v) for k, _, v in (p.partition("=") for p in pairs)}
    key_id = params.get("X-Amz-Credential", "").split("/")[0]
    if key_id not in keys:
        return s3_error(start_response, "403 Forbidden", "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    host = environ["HTTP_HOST"]
    unsigned = "&".join(p for p in pairs if not p.startswith("X-Amz-Signature="))
    request = AWSRequest(method=environ["REQUEST_METHOD"], url=f"http://{host}{path}?{unsigned}", headers={"host": host})
    request.context["timestamp"] = params.get("X-Amz-Date", "")
    auth = S3SigV4QueryAuth(Credentials(key_id, keys[key_id]), "s3", REGION, expires=int(params.get("X-Amz-Expires", "0")))
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature", "")):
        return s3_error(start_response, "403 Forbidden", "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    signed_at = calendar.timegm(time.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    if time.time() > signed_at + int(params["X-Amz-Expires"]):
        return s3_error(start_response, "403 Forbidden", "AccessDenied", "Request has expired")
    # Valid: the same request, its operation parameters kept, signed in the header for moto.
    operation = "&".join(p for p in pairs if not p.startswith("X-Amz-"))
    target = f"{path}?{operation}" if operation else path
    forwarded = AWSRequest(method=environ["REQUEST_METHOD"], url=f"http://{host}{target}", headers={"host": host})
    S3SigV4Auth(Credentials(key_id, keys[key_id]), "s3", REGION).add_auth(forwarded)
    environ = dict(environ, QUERY_STRING=operation, REQUEST_URI=target, RAW_URI=target)
    for name, value in forwarded.headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return moto(environ, start_response)


def app(environ, start_response):
    if environ["PATH_INFO"] == "/_objects":
        key_id, secret = next(iter(keys.items()))
        s3 = boto3.client("s3", endpoint_url=f"http://{environ['HTTP_HOST']}", region_name=REGION,
                          aws_access_key_id=key_id, aws_secret_access_key=secret)
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        body = json.dumps({"objects": [{"key": o["Key"], "size": o["Size"]} for o in listed]}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if "X-Amz-Signature=" in environ.get("QUERY_STRING", ""):
        if "HTTP_AUTHORIZATION" in environ:
            # As S3 answers a client that forwarded its own credentials along a redirect.
            return s3_error(start_response, "400 Bad Request", "InvalidArgument", "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
        return presigned(environ, start_response)
    return moto(environ, start_response)


class Quiet(WSGIRequestHandler):
    """No line per request on the test run's output."""

    def log_request(self, *args, **kwargs):
        pass


server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
endpoint = f"http://127.0.0.1:{server.server_port}"

threading.Thread(target=server.serve_forever, daemon=True).start()
iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="son1k")
iam.put_user_policy(UserName="son1k", PolicyName="blobs", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="son1k")["AccessKey"]
keys[key["AccessKeyId"]] = key["SecretAccessKey"]
boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key["AccessKeyId"],
             aws_secret_access_key=key["SecretAccessKey"]).create_bucket(Bucket=bucket)
# From here on every request must be signed with a key IAM knows.
settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
ActionAuthenticatorMixin.request_count = 0
print(json.dumps({"port": server.server_port, "bucket": bucket, "access_key_id": key["AccessKeyId"],
                  "secret_access_key": key["SecretAccessKey"], "region": REGION}), flush=True)
threading.Event().wait()
