#!/usr/bin/python3
"""Sets up the local cluster's demo: the server group, the demo channel and
the demo profiles. Every step is idempotent; scripts/up runs them.

  scripts/demo_setup.py group     creates group 'default' (DISTRIBUTED)
  scripts/demo_setup.py deploy    deploys the demo channel unless active
  scripts/demo_setup.py profiles  loads 1,000 demo profiles (CustomerID 1-1000)
"""

import argparse
import csv
import datetime
import io
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import parley_stubs  # noqa: E402

DEMO_CHANNEL = os.path.join(ROOT, "deploy", "demo", "demo_channel.json")
PROTOS = ["coordinator", "channel", "deployments", "runtime", "profiles"]


def stubs():
    state = os.environ.get("PARLEY_STATE", os.path.join(ROOT, ".parley"))
    parley_stubs.generate_stubs(
        {ROOT: [f"proto/parley/v1/{name}.proto" for name in PROTOS]},
        os.path.join(state, "py"), os.path.join(state, "py_sources"))
    import grpc  # noqa: F401
    from proto.parley.v1 import coordinator_pb2, coordinator_pb2_grpc
    from proto.parley.v1 import deployments_pb2, deployments_pb2_grpc
    from proto.parley.v1 import profiles_pb2, profiles_pb2_grpc
    return (coordinator_pb2, coordinator_pb2_grpc, deployments_pb2,
            deployments_pb2_grpc, profiles_pb2, profiles_pb2_grpc)


def open_channel(args, address):
    """A channel to `address`, over mutual TLS when --tls-ca is given."""
    import grpc
    if not args.tls_ca:
        return grpc.insecure_channel(address)

    def read(path):
        with open(path, "rb") as f:
            return f.read()
    return grpc.secure_channel(address, grpc.ssl_channel_credentials(
        root_certificates=read(args.tls_ca),
        private_key=read(args.tls_key) if args.tls_key else None,
        certificate_chain=read(args.tls_cert) if args.tls_cert else None))


def create_group(args):
    import grpc
    pb, pb_grpc, *_ = stubs()
    coordinator = pb_grpc.CoordinatorStub(open_channel(args, args.coordinator))
    try:
        coordinator.CreateGroup(pb.CreateGroupRequest(
            name=args.group,
            settings=pb.GroupSettings(cache_type=pb.DISTRIBUTED)), timeout=10)
        print(f"created server group '{args.group}' (DISTRIBUTED)")
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.ALREADY_EXISTS:
            raise
        print(f"server group '{args.group}' exists")


def deploy(args):
    import grpc
    from google.protobuf import json_format
    *_, dpb, dpb_grpc, _, _ = stubs()
    try:
        with open(args.channel) as f:
            channel = json_format.Parse(f.read(), dpb.DeployRequest().channel)
    except (OSError, json_format.ParseError) as error:
        sys.exit(f"cannot read channel file {args.channel}: {error}")
    deployments = dpb_grpc.DeploymentsStub(open_channel(args, args.coordinator))
    try:
        active = deployments.GetDeployment(dpb.GetDeploymentRequest(
            group=args.group, channel=channel.name), timeout=10)
        if active.channel == channel:
            print(f"channel '{channel.name}' version {active.version} is "
                  f"already active on group '{args.group}'")
            return
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
    try:
        deployed = deployments.Deploy(dpb.DeployRequest(
            group=args.group, channel=channel, comment="scripts/up demo"),
            timeout=10)
    except grpc.RpcError as error:
        sys.exit(f"deploying {args.channel} failed: {error.details()}")
    print(f"deployed channel '{channel.name}' version {deployed.version} to "
          f"group '{args.group}'")


def demo_profiles(count):
    """The demo's visitors: deterministic attributes for CustomerID 1..count."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["CustomerID", "Age", "Tier", "LastPurchase"])
    tiers = ["Gold", "Silver", "Bronze", "Silver", "Bronze"]
    start = datetime.date(2026, 1, 1)
    for customer in range(1, count + 1):
        age = 18 + (customer * 37) % 60
        purchase = start + datetime.timedelta(days=(customer * 13) % 300)
        writer.writerow([customer, age, tiers[customer % len(tiers)],
                         purchase.isoformat() + "T12:00:00Z"])
    return out.getvalue().encode()


def load_profiles(args):
    import grpc
    *_, ppb, ppb_grpc = stubs()
    data = demo_profiles(args.count)
    profiles = ppb_grpc.ProfilesStub(open_channel(args, args.runtime))

    def requests():
        chunk = 64 * 1024
        for offset in range(0, len(data), chunk):
            request = ppb.LoadProfilesRequest(csv_chunk=data[offset:offset +
                                                             chunk])
            if offset == 0:
                request.interactive_channel = args.demo_channel
                request.audience_level = "Customer"
            yield request

    deadline = time.monotonic() + 60
    while True:
        try:
            last = None
            for progress in profiles.LoadProfiles(requests(), timeout=120):
                last = progress
            break
        except grpc.RpcError as error:
            # The runtime server may not have loaded the channel yet.
            if (error.code() not in (grpc.StatusCode.NOT_FOUND,
                                     grpc.StatusCode.UNAVAILABLE) or
                    time.monotonic() > deadline):
                raise
            time.sleep(0.5)
    print(f"loaded {last.rows_stored} demo profiles "
          f"({last.rows_rejected} rejected) through {args.runtime}")
    if last.rows_rejected:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["group", "deploy", "profiles"])
    parser.add_argument("--coordinator", default="127.0.0.1:7400")
    parser.add_argument("--runtime", default="127.0.0.1:7601")
    parser.add_argument("--group", default="default")
    parser.add_argument("--channel", default=DEMO_CHANNEL,
                        help="channel JSON file to deploy")
    parser.add_argument("--demo_channel", default="demo")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--tls-ca", help="CA file: use mutual TLS")
    parser.add_argument("--tls-cert", help="client certificate")
    parser.add_argument("--tls-key", help="client key")
    args = parser.parse_args()
    {"group": create_group, "deploy": deploy,
     "profiles": load_profiles}[args.step](args)


if __name__ == "__main__":
    main()
