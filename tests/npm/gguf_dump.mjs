// Prints what @huggingface/gguf (an independent GGUF reader) sees in FILE, as JSON:
//   {version, tensor_count, kv_count, tensor_data_offset,
//    metadata: {key: {type, sub_type?, value}}, tensors: [{name, type, shape, offset}]}
// 64-bit integers (u64/i64 values, shapes, offsets) are printed as decimal strings so nothing is rounded;
// shapes are as stored in the file: innermost dimension first.
// Usage: node gguf_dump.mjs FILE
import { gguf } from "@huggingface/gguf";
import path from "node:path";

if (process.argv.length !== 3) {
  console.error("usage: node gguf_dump.mjs FILE");
  process.exit(2);
}

try {
  const file = path.resolve(process.argv[2]);
  const parsed = await gguf(file, { allowLocalFile: true, typedMetadata: true });
  const pseudoKeys = new Set(["version", "tensor_count", "kv_count"]);
  const metadata = {};
  for (const [key, entry] of Object.entries(parsed.typedMetadata)) {
    if (pseudoKeys.has(key)) continue;
    metadata[key] = { type: entry.type, value: entry.value };
    if (entry.subType !== undefined) metadata[key].sub_type = entry.subType;
  }
  const out = {
    version: parsed.metadata.version,
    tensor_count: parsed.metadata.tensor_count,
    kv_count: parsed.metadata.kv_count,
    tensor_data_offset: parsed.tensorDataOffset,
    metadata,
    tensors: parsed.tensorInfos.map((t) => ({ name: t.name, type: t.dtype, shape: t.shape, offset: t.offset })),
  };
  process.stdout.write(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? v.toString() : v), 1) + "\n");
} catch (err) {
  console.error(`gguf_dump: ${process.argv[2]}: ${err.message}`);
  process.exit(1);
}
