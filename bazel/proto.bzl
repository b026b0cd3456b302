"""parley_proto: one line per .proto file, C++ messages plus gRPC stubs.

Runs Debian's /usr/bin/protoc with /usr/bin/grpc_cpp_plugin, so the build
needs no downloaded protobuf rules.
"""

def parley_proto(name, deps = [], grpc = True):
    """Generates and compiles <name>.proto in the current package.

    Args:
      name: base name of the .proto file; the C++ target is <name>_cc_proto.
      deps: base names of other parley_proto files in this package it imports.
      grpc: also generate gRPC service stubs.
    """
    package = native.package_name()
    outs = [name + ".pb.h", name + ".pb.cc"]
    if grpc:
        outs += [name + ".grpc.pb.h", name + ".grpc.pb.cc"]
    grpc_flags = ""
    if grpc:
        grpc_flags = (" --grpc_out=$(GENDIR)" +
                      " --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin")
    native.genrule(
        name = name + "_gen",
        srcs = [name + ".proto"] + [d + ".proto" for d in deps],
        outs = outs,
        cmd = ("/usr/bin/protoc -I. -I/usr/include --cpp_out=$(GENDIR)" +
               grpc_flags + " " + package + "/" + name + ".proto"),
    )
    native.cc_library(
        name = name + "_cc_proto",
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = [d + "_cc_proto" for d in deps] + [
            "@system//:grpc",
            "@system//:protobuf",
        ],
        visibility = ["//visibility:public"],
    )
    native.exports_files([name + ".proto"])
