"""Python modules for Parley's gRPC API, generated with grpc_tools.protoc.

Shared by the scripts and the Python tests. Runs under Debian's
/usr/bin/python3 with python3-grpcio, python3-grpc-tools and
python3-protobuf.
"""

import os
import shutil
import subprocess
import sys

GRPC_PROTO_DIR = "/usr/share/grpc-proto"


def generate_stubs(protos, out, sources):
    """Generates Python modules into `out` and puts it on sys.path.

    `protos` maps an include root to .proto paths under it; `sources` is a
    scratch directory the protos are copied to. gRPC's own protos are copied
    under 'ext/' so they do not shadow the grpc package. Returns `out`.
    """
    for path in (out, sources):
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
    for root, files in protos.items():
        for relative in files:
            target = relative
            if root == GRPC_PROTO_DIR:
                target = os.path.join("ext", os.path.basename(relative))
            os.makedirs(os.path.join(sources, os.path.dirname(target)),
                        exist_ok=True)
            shutil.copy(os.path.join(root, relative),
                        os.path.join(sources, target))
    proto_files = []
    for dirpath, _, filenames in os.walk(sources):
        for filename in filenames:
            if filename.endswith(".proto"):
                proto_files.append(
                    os.path.relpath(os.path.join(dirpath, filename), sources))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{sources}",
                    "-I/usr/include", f"--python_out={out}",
                    f"--grpc_python_out={out}"] + sorted(proto_files),
                   check=True)
    for dirpath, _, _ in os.walk(out):
        init = os.path.join(dirpath, "__init__.py")
        if not os.path.exists(init):
            open(init, "w").close()
    sys.path.insert(0, out)
    return out
