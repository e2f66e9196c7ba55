"""What botocore's SigV4 makes of requests, for SigV4Tests to compare the kernel's signer with.

Reads one JSON object on standard input:
    {"access_key_id", "secret_access_key", "region", "timestamp": "YYYYMMDDTHHMMSSZ",
     "signed": [{"method", "url", "headers": {...}, "payload_hex"}],
     "presigned": [{"method", "url", "expires"}]}
and prints {"signed": [Authorization header...], "presigned": [URL...]}: S3SigV4Auth and
S3SigV4QueryAuth, botocore's own S3 signers, with the clock set to `timestamp`.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

job = json.load(sys.stdin)
at = datetime.datetime.strptime(job["timestamp"], "%Y%m%dT%H%M%SZ")
botocore.auth.get_current_datetime = lambda *args, **kwargs: at
credentials = Credentials(job["access_key_id"], job["secret_access_key"])

signed = []
for r in job["signed"]:
    request = AWSRequest(method=r["method"], url=r["url"], data=bytes.fromhex(r["payload_hex"]), headers=r["headers"])
    S3SigV4Auth(credentials, "s3", job["region"]).add_auth(request)
    signed.append(request.headers["Authorization"])

presigned = []
for r in job["presigned"]:
    request = AWSRequest(method=r["method"], url=r["url"])
    S3SigV4QueryAuth(credentials, "s3", job["region"], expires=r["expires"]).add_auth(request)
    presigned.append(request.url)

print(json.dumps({"signed": signed, "presigned": presigned}))
