#!/usr/bin/python3
"""Asks a server's grpc.health.v1.Health/Check; exits 0 when SERVING.

usage: health_check.py HOST:PORT [SERVICE] [--timeout SECONDS]
         [--tls-ca FILE [--tls-cert FILE --tls-key FILE]]

Needs only Debian's python3-grpcio: the tiny request and response are
encoded by hand (field 1 of each), so no generated stubs are involved.
Prints SERVING, NOT_SERVING, UNKNOWN or the connection error.
"""

import argparse
import sys

import grpc

STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING",
                3: "SERVICE_UNKNOWN"}


def encode_request(service):
    data = service.encode()
    if not data:
        return b""
    if len(data) > 127:
        raise ValueError("service name too long")
    return bytes([0x0A, len(data)]) + data


def decode_status(response):
    # HealthCheckResponse { ServingStatus status = 1; } -> 0x08 <varint>.
    if len(response) >= 2 and response[0] == 0x08:
        return response[1]
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("address")
    parser.add_argument("service", nargs="?", default="")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--tls-ca", help="CA file: use TLS, verify the server")
    parser.add_argument("--tls-cert", help="client certificate (mutual TLS)")
    parser.add_argument("--tls-key", help="client key (mutual TLS)")
    args = parser.parse_args()
    if args.tls_ca:
        def read(path):
            with open(path, "rb") as f:
                return f.read()
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(args.tls_ca),
            private_key=read(args.tls_key) if args.tls_key else None,
            certificate_chain=read(args.tls_cert) if args.tls_cert else None)
        channel = grpc.secure_channel(args.address, credentials)
    else:
        channel = grpc.insecure_channel(args.address)
    with channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        try:
            response = check(encode_request(args.service),
                             timeout=args.timeout)
        except grpc.RpcError as error:
            print(f"{error.code().name}: {error.details()}")
            return 1
    status = STATUS_NAMES.get(decode_status(response), "UNKNOWN")
    print(status)
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
