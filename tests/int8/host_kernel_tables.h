// The int8 kernel tables the bit-identity tests compare: every table this build has and this CPU runs,
// the portable one first.
#pragma once

#include <vector>

#include "ops/int8/int8_kernels.h"

namespace tessera::ops::int8 {

inline std::vector<const Int8Kernels*> host_kernel_tables() {
  std::vector<const Int8Kernels*> tables;
  for (Isa isa : kAllIsas)
    if (isa_supported(isa, host_cpu_features())) tables.push_back(&int8_kernels_for(isa));
  return tables;
}

}  // namespace tessera::ops::int8
