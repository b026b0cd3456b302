#ifndef PARLEY_SERVICES_COMMON_VERSION_H_
#define PARLEY_SERVICES_COMMON_VERSION_H_

namespace parley {

// Parley's release version, printed by every binary's --version.
inline constexpr char kParleyVersion[] = "0.1.0";

// The gRPC API version every server speaks.
inline constexpr char kParleyApiVersion[] = "parley.v1";

}  // namespace parley

#endif  // PARLEY_SERVICES_COMMON_VERSION_H_
