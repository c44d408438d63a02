// The restricted unpickler: values it builds from hand-written opcode streams, the allow-list,
// and malformed/hostile streams (every one an error with offset and opcode, never a crash).
#include "format/pickle_reader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "torch_test_support.h"

namespace tessera {
namespace {

using testing::as_bytes;
using testing::PickleBuilder;

Result<Pickle> load(const std::string& s, const UnpickleLimits& limits = {}) {
  return unpickle(as_bytes(s), "t.pkl", limits);
}

void expect_error(const Result<Pickle>& r, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("t.pkl: offset "), std::string::npos) << r.status().message();
}

TEST(Unpickler, BuildsScalarsAndContainers) {
  // {"a": [1, -2, 70000, None, True, 2.5], "b": ("x", b"\x01\x02")}
  PickleBuilder p;
  p.op('}').op('q').raw(std::string(1, '\0')).mark();
  p.str("a").op(']').mark().raw("K\x01").integer(-2).raw("M\x70\x11").integer(70000).op('N').op('\x88');
  p.op('G').raw(std::string("\x40\x04\x00\x00\x00\x00\x00\x00", 8)).op('e');
  p.str("b").raw("\x8c\x01x").raw(std::string("C\x02\x01\x02", 4)).op('\x86');
  p.op('u').stop();
  auto r = load(p.s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const PyValue* root = r->root();
  ASSERT_EQ(root->kind, PyKind::kDict);
  const PyValue* a = root->dict_get("a");
  ASSERT_TRUE(a && a->kind == PyKind::kList && a->items.size() == 7u);
  EXPECT_EQ(a->items[0]->int_value, 1);
  EXPECT_EQ(a->items[1]->int_value, -2);
  EXPECT_EQ(a->items[2]->int_value, 0x1170);
  EXPECT_EQ(a->items[3]->int_value, 70000);
  EXPECT_EQ(a->items[4]->kind, PyKind::kNone);
  EXPECT_EQ(a->items[5]->kind, PyKind::kBool);
  EXPECT_EQ(a->items[5]->int_value, 1);
  EXPECT_EQ(a->items[6]->float_value, 2.5);
  const PyValue* b = root->dict_get("b");
  ASSERT_TRUE(b && b->kind == PyKind::kTuple && b->items.size() == 2u);
  EXPECT_EQ(b->items[0]->text, "x");
  EXPECT_EQ(b->items[1]->kind, PyKind::kBytes);
  EXPECT_EQ(b->items[1]->text, std::string("\x01\x02", 2));
}

TEST(Unpickler, LongIntegers) {
  // LONG1 payloads are little-endian two's complement; values beyond 64 bits stay big ints.
  auto one = [](const std::string& payload) {
    PickleBuilder p;
    p.op('\x8a').raw(std::string(1, char(payload.size()))).raw(payload).stop();
    return load(p.s);
  };
  EXPECT_EQ(one("")->root()->int_value, 0);
  EXPECT_EQ(one("\xff")->root()->int_value, -1);
  EXPECT_EQ(one(std::string("\x00\x80", 2))->root()->int_value, -32768);  // as pickle.decode_long
  EXPECT_EQ(one(std::string("\x00\x80\x00", 3))->root()->int_value, 32768);
  EXPECT_EQ(one(std::string("\x00\x00\x00\x00\x00\x00\x00\x80", 8))->root()->int_value, INT64_MIN);
  // 2^63: needs a ninth (zero) byte, so it is a big int for the value tree.
  auto big = one(std::string("\x00\x00\x00\x00\x00\x00\x00\x80\x00", 9));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->root()->kind, PyKind::kBigInt);
  // Redundant sign-extension bytes are dropped: -1 written in 12 bytes is still -1.
  EXPECT_EQ(one(std::string(12, '\xff'))->root()->int_value, -1);
}

TEST(Unpickler, MemoSharesObjectsAndBuildSetsDictState) {
  // x = []; d = OrderedDict(); d.__setstate__({"_metadata": x}); result = (d, x, x)
  PickleBuilder p;
  p.op(']').raw("q\x01").op('0');
  p.global("collections", "OrderedDict").op(')').op('R');
  p.op('}').str("_metadata").raw("h\x01").op('s').op('b');
  p.raw("h\x01").raw("h\x01").op('\x87').stop();
  auto r = load(p.s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const PyValue* t = r->root();
  ASSERT_EQ(t->items.size(), 3u);
  EXPECT_TRUE(t->items[0]->ordered);
  EXPECT_EQ(t->items[1], t->items[2]);  // one object, referenced twice
  ASSERT_NE(t->items[0]->attributes, nullptr);
  EXPECT_EQ(t->items[0]->attributes->dict_get("_metadata"), t->items[1]);
}

TEST(Unpickler, Protocol4FramesAndStackGlobal) {
  std::string s = std::string("\x80\x04\x95", 3);
  std::string body;
  body += std::string("\x8c\x0b", 2) + "collections" + "\x94";
  body += std::string("\x8c\x0b", 2) + "OrderedDict" + "\x94";
  body += "\x93\x94)R\x94.";
  testing::put_le(s, body.size(), 8);
  s += body;
  auto r = load(s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->root()->kind, PyKind::kDict);
  EXPECT_TRUE(r->root()->ordered);
}

TEST(Unpickler, RefusesOsSystemAndNeverRunsIt) {
  const std::string marker = ::testing::TempDir() + "/tessera_pickle_pwned";
  std::filesystem::remove(marker);
  PickleBuilder p;
  p.global("os", "system").mark().str("touch " + marker).tuple().op('R').stop();
  auto r = load(p.s);
  expect_error(r, StatusCode::kUnsupported, "global 'os.system' is not allowed");
  EXPECT_NE(r.status().message().find("GLOBAL"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(Unpickler, RefusesBuiltinsEvalViaStackGlobal) {
  std::string s = std::string("\x80\x04", 2) + "\x8c\x08" + "builtins" + "\x8c\x04" + "eval" + "\x93" + "\x8c\x05" +
                  "1+1)." + "\x85R.";
  expect_error(load(s), StatusCode::kUnsupported, "global 'builtins.eval' is not allowed");
  // Python 2 spelling, and a look-alike of an allowed name.
  expect_error(load(PickleBuilder().global("__builtin__", "eval").stop().s), StatusCode::kUnsupported,
               "__builtin__.eval");
  expect_error(load(PickleBuilder().global("torch._utils", "_rebuild_tensor_v2x").stop().s), StatusCode::kUnsupported,
               "_rebuild_tensor_v2x");
}

TEST(Unpickler, RefusesCallingStorageClassesAndNonGlobals) {
  expect_error(load(PickleBuilder().global("torch", "FloatStorage").op(')').op('R').stop().s), StatusCode::kUnsupported,
               "'torch.FloatStorage' may not be called");
  expect_error(load(PickleBuilder().op(')').op(')').op('R').stop().s), StatusCode::kUnsupported, "REDUCE on a tuple");
  expect_error(load(PickleBuilder().op(']').op('}').op('b').stop().s), StatusCode::kUnsupported,
               "BUILD (set state) on a list");
  expect_error(load(PickleBuilder().global("torch._utils", "_rebuild_tensor_v2").op(')').raw("\x81").stop().s),
               StatusCode::kUnsupported, "NEWOBJ");
}

TEST(Unpickler, PersistentIdMustBeAStorage) {
  PickleBuilder p;
  p.mark().str("storage").global("collections", "OrderedDict").str("0").str("cpu").integer(4).tuple().op('Q').stop();
  expect_error(load(p.s), StatusCode::kUnsupported, "names 'collections.OrderedDict' where a torch.*Storage");
  PickleBuilder q;
  q.str("0").op('Q').stop();
  expect_error(load(q.s), StatusCode::kUnsupported, "persistent id must be");
  PickleBuilder n;
  n.mark().str("storage").global("torch", "HalfStorage").str("0").str("cpu").integer(-4).tuple().op('Q').stop();
  expect_error(load(n.s), StatusCode::kCorruptFile, "int numel >= 0");
}

TEST(Unpickler, MalformedStreams) {
  expect_error(load(std::string("\x80\x02\xff", 3)), StatusCode::kCorruptFile, "unknown opcode 0xff");
  expect_error(load(std::string("\x80\x02N", 3)), StatusCode::kCorruptFile, "without a STOP");
  expect_error(load("."), StatusCode::kCorruptFile, "stack underflow");
  expect_error(load(std::string("\x80\x02Nt.", 4)), StatusCode::kCorruptFile, "no MARK");
  expect_error(load(std::string("\x80\x02h\x05.", 5)), StatusCode::kCorruptFile, "memo index 5 was never stored");
  expect_error(load(std::string("\x80\x09N.", 4)), StatusCode::kUnsupported, "protocol 9");
  expect_error(load(std::string("\x80\x02(Na.", 6)), StatusCode::kCorruptFile, "stack underflow");
  expect_error(load(std::string("\x80\x02NNa.", 6)), StatusCode::kCorruptFile, "APPEND to a None");
  expect_error(load(std::string("\x80\x02}(Nu.", 7)), StatusCode::kCorruptFile, "odd number");
  expect_error(load(std::string("\x80\x02X\x02\x00\x00\x00\xc3\x28.", 10)), StatusCode::kCorruptFile, "UTF-8");
  expect_error(load(std::string("\x80\x02"
                                "cos\nsys",
                                9)),
               StatusCode::kCorruptFile, "newline");
  expect_error(load(std::string("\x80\x02S'x'\n.", 8)), StatusCode::kUnsupported, "opcode STRING");
  expect_error(load(std::string("\x80\x02\x8f.", 4)), StatusCode::kUnsupported, "EMPTY_SET");
}

TEST(Unpickler, HugeLengthsAreCheckedAgainstTheInput) {
  expect_error(load(std::string("\x80\x02X\xff\xff\xff\xff", 7)), StatusCode::kCorruptFile,
               "needs 4294967295 bytes, only 0 left");
  expect_error(load(std::string("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xff", 11)), StatusCode::kCorruptFile,
               "needs 18446744073709551615 bytes");
  expect_error(load(std::string("\x80\x02\x8b\xff\xff\xff\x7f", 7)), StatusCode::kCorruptFile, "LONG body");
  expect_error(load(std::string("\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x01", 11)), StatusCode::kCorruptFile,
               "FRAME body");
}

TEST(Unpickler, ObjectAndMemoLimits) {
  PickleBuilder p;
  p.mark();
  for (int i = 0; i < 200; ++i) p.integer(i);
  p.op('l').stop();
  ASSERT_TRUE(load(p.s).ok());
  expect_error(load(p.s, {.max_values = 100}), StatusCode::kCorruptFile, "more than 100 objects");
  PickleBuilder m;
  for (int i = 0; i < 10; ++i) m.op('N').raw("r").raw(std::string{char(i), 0, 0, 0}).op('0');
  m.op('N').stop();
  expect_error(load(m.s, {.max_memo = 5}), StatusCode::kCorruptFile, "more than 5 memo entries");
}

TEST(Unpickler, DeepNestingAndCyclesDoNotRecurse) {
  // 100000 nested lists: the unpickler itself is iterative, so this must simply work.
  PickleBuilder p;
  const int depth = 100000;
  for (int i = 0; i < depth; ++i) p.op(']');
  for (int i = 1; i < depth; ++i) p.op('a');
  p.stop();
  auto r = load(p.s);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->root()->items.size(), 1u);
  // A list that contains itself.
  auto c =
      load(std::string("\x80\x02]q\x00h\x00"
                       "a.",
                       9));
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->root()->items[0], c->root());
}

}  // namespace
}  // namespace tessera
