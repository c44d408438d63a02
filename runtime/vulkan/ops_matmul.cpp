// Recording of the tiled matrix product for prompt chunks (shaders/matmul.comp, and
// shaders/matmul_coopmat_nv.comp on devices with NVIDIA cooperative matrices). Tile sizes come
// from the effective limits (the device's, or a device-limits profile's): invocations per workgroup
// and shared memory.
#include <algorithm>
#include <iterator>

#include "vulkan/ops.h"
#include "vulkan/shader_variants.h"

namespace tessera::vk {
namespace {

uint32_t div_up(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

// shaders/matmul_coopmat_nv.comp's shared row stride (XS4) in 4-half units: a K slice of 32 and padding.
constexpr uint32_t kCoopSliceUnits = 32 / 4 + 2;
// The larger tile (rows x outputs) where it still leaves this many workgroups: a 2 048-row chunk of a
// 768-output product is 192 tiles of 64 x 128 (60 µs on an H100). Smaller products take 64 x 64
// tiles: 32-row tiles of one or two subgroups were slower on the H100 at 512 rows (docs/benchmarks.md).
constexpr uint32_t kCoopTilesEnough = 192;

// Token rows x outputs of a workgroup (the kernel's BM, BN), one subgroup per 32 x 32 block.
struct CoopTile {
  uint32_t rows, cols;
};
constexpr CoopTile kCoopTiles[] = {{64, 128}, {64, 64}};

uint32_t coop_workgroup(CoopTile t) { return t.rows * t.cols / 32; }

// Two stages of xs (rows) and ws (cols) at 8 bytes per 4 halves, the 16 x 8 epilogue block of each
// subgroup, LayerNorm statistics.
uint32_t coop_shared_bytes(CoopTile t) {
  return 2 * (t.rows + t.cols) * kCoopSliceUnits * 8 + coop_workgroup(t) / 32 * 16 * 8 * 4 + t.rows * 8;
}

CoopTile coop_tile(uint32_t n, uint32_t outputs, const KernelLimits& limits) {
  for (const CoopTile& t : kCoopTiles)
    if (coop_shared_bytes(t) <= limits.max_shared_bytes && coop_workgroup(t) <= limits.max_workgroup_invocations &&
        div_up(n, t.rows) * div_up(outputs, t.cols) >= kCoopTilesEnough)
      return t;
  return kCoopTiles[std::size(kCoopTiles) - 1];
}

bool coop_usable(const Context& ctx, WeightType wtype) {
  if (wtype == WeightType::kF32) return false;  // fp16 products would round the weights
  const KernelLimits& limits = ctx.limits();
  return limits.subgroups &&
         pick_kernel_variant(KernelId::kMatmul, KernelId::kMatmulCoopmatNv, limits.features) ==
             KernelId::kMatmulCoopmatNv &&
         ctx.subgroup_size() == 32 &&
         limits.max_workgroup_invocations >= coop_workgroup(kCoopTiles[std::size(kCoopTiles) - 1]) &&
         limits.max_shared_bytes >= coop_shared_bytes(kCoopTiles[std::size(kCoopTiles) - 1]);
}

}  // namespace

MatmulTile matmul_tile(const Context& ctx) {
  const KernelLimits& limits = ctx.limits();
  return matmul_tile_for(limits.max_workgroup_invocations, limits.max_workgroup_invocations, limits.max_shared_bytes);
}

MatmulTile matmul_tile_for(uint32_t max_invocations, uint32_t max_size_x, uint32_t max_shared_bytes) {
  const uint32_t most = std::min(max_invocations, max_size_x);
  // 256 threads x 4 x 4 outputs (64 x 64 tile); devices limited to 128 (Android Baseline) or 64
  // invocations keep 8 token rows per thread.
  MatmulTile t{256, 4};
  if (most < 256) t = {128, 8};
  if (most < 128) t = {64, 8};
  // shaders/matmul.comp: xs[16][BM + 1], ws[16][65], ln_stats[BM], ln_part[WG] (fp32).
  auto shared_bytes = [](MatmulTile s) { return 4 * (16 * (s.rows() + 1) + 16 * 65 + 2 * s.rows() + s.workgroup); };
  while (t.workgroup > 16 && shared_bytes(t) > max_shared_bytes) t = {t.workgroup / 2, t.rows_per_thread};
  return t;
}

bool matmul_uses_cooperative_matrix(const Context& ctx, WeightType wtype) { return coop_usable(ctx, wtype); }

Status record_matmul(Recording& rec, Context& ctx, const GpuMatrix& w, const RowView& x, const RowView& y, uint32_t n,
                     bool accumulate, float out_scale, const GpuNorm* ln, float ln_eps, bool allow_coop,
                     const MatmulTile* tile_override) {
  const uint32_t K = uint32_t(w.cols);
  if (x.offset % 4 || x.stride % 4)
    return internal_error("vulkan: matmul inputs must start at multiples of 4 floats (vec4 reads)");
  const bool coop = allow_coop && coop_usable(ctx, w.wtype);
  const MatmulTile tile = tile_override ? *tile_override : matmul_tile(ctx);
  for (const auto& p : w.parts) {
    const ProductPush push = product_push(w, p, n, x, y, accumulate, out_scale, ln, ln_eps);
    const BufferSlice& lw = ln ? ln->weight : ctx.dummy();
    const BufferSlice& lb = ln ? ln->bias : ctx.dummy();
    if (coop) {
      const CoopTile t = coop_tile(n, uint32_t(p.rows), ctx.limits());
      TESSERA_RETURN_IF_ERROR(
          rec.dispatch<KernelId::kMatmulCoopmatNv>({coop_workgroup(t), uint32_t(w.wtype), K, t.rows, t.cols},
                                                   {x.buf, p.weight, p.scale, p.bias, y.buf, lw, lb}, push,
                                                   {div_up(uint32_t(p.rows), t.cols), div_up(n, t.rows), 1}));
    } else {
      TESSERA_RETURN_IF_ERROR(
          rec.dispatch<KernelId::kMatmul>({tile.workgroup, uint32_t(w.wtype), K, tile.rows_per_thread},
                                          {x.buf, p.weight, p.scale, p.bias, y.buf, lw, lb}, push,
                                          {div_up(uint32_t(p.rows), tile.cols()), div_up(n, tile.rows()), 1}));
    }
  }
  return Status::ok_status();
}

}  // namespace tessera::vk
