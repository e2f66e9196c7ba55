"""A real SMTP server (aiosmtpd) for the mail tests: STARTTLS with a self-signed certificate
for `localhost` made at start, AUTH PLAIN/LOGIN required (after STARTTLS) with the user and
password given, and every accepted message written to SPOOL as NNNN.eml.

    smtp_receiver.py SPOOL USER PASSWORD

Prints one JSON line: {"port": …, "ca_file": …} (the certificate to trust).
"""
import datetime
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

spool, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(spool, exist_ok=True)


def certificate(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = os.path.join(directory, "smtp-cert.pem"), os.path.join(directory, "smtp-key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_file, key_file


class Spool:
    lock = threading.Lock()
    count = 0

    async def handle_DATA(self, server, session, envelope):
        with Spool.lock:
            Spool.count += 1
            path = os.path.join(spool, "%04d.eml" % Spool.count)
        with open(path + ".part", "wb") as f:
            f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            f.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(path + ".part", path)
        return "250 Message accepted for delivery"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok)


cert_file, key_file = certificate(spool)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert_file, key_file)
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Spool(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                        authenticator=authenticate, auth_required=True, auth_require_tls=True,
                        server_hostname="localhost")
controller.start()
print(json.dumps({"port": port, "ca_file": cert_file}), flush=True)
threading.Event().wait()
