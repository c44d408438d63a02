// ZipArchive: stored entries, ZIP64 records, and every offset/size checked against the file.
#include "format/zip_reader.h"

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "torch_test_support.h"

namespace tessera {
namespace {

using testing::as_bytes;
using testing::make_zip;
using testing::put_le;

const std::string kFixture = std::string(TESSERA_TEST_DATA) + "/authors/fb-regular-softmax/ckpt.pt";

std::string str(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

void expect_error(const Result<ZipArchive>& r, StatusCode code, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_EQ(r.status().code(), code) << r.status().to_string();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(Crc32, KnownVector) {
  // The standard check value of CRC-32/IEEE for "123456789".
  EXPECT_EQ(crc32_ieee(as_bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32_ieee(as_bytes("")), 0u);
}

TEST(ZipReader, ReadsCraftedStoredEntries) {
  const std::string zip = make_zip({{"a/data.pkl", "hello"}, {"a/data/0", std::string(7, 'x')}, {"a/empty", ""}});
  auto z = ZipArchive::open(as_bytes(zip), "t.zip");
  ASSERT_TRUE(z.ok()) << z.status().to_string();
  ASSERT_EQ(z->entries().size(), 3u);
  EXPECT_EQ(z->entries()[0].name, "a/data.pkl");
  auto hello = z->read(*z->find("a/data.pkl"));
  ASSERT_TRUE(hello.ok());
  EXPECT_EQ(str(*hello), "hello");
  EXPECT_EQ(str(*z->read(*z->find("a/data/0"))), std::string(7, 'x'));
  EXPECT_EQ(z->read(*z->find("a/empty"))->size(), 0u);
  EXPECT_EQ(z->find("a/missing"), nullptr);
}

TEST(ZipReader, ReadsTorchFixtureWithZip64EndRecords) {
  // torch 1.13 writes ZIP64 end records, data descriptors (flag bit 3) and 64-byte aligned data.
  auto bytes = read_file(kFixture);
  ASSERT_TRUE(bytes.ok());
  auto z = ZipArchive::open(*bytes, "ckpt.pt");
  ASSERT_TRUE(z.ok()) << z.status().to_string();
  EXPECT_EQ(z->entries().front().name, "ckpt/data.pkl");
  EXPECT_NE(z->find("ckpt/version"), nullptr);
  for (const ZipEntry& e : z->entries()) {
    EXPECT_EQ(e.data_offset % 64, 0u) << e.name;
    EXPECT_TRUE(z->read(e).ok()) << e.name;  // CRC-32 of every record agrees
  }
  EXPECT_EQ(str(*z->read(*z->find("ckpt/version"))), "3\n");
}

TEST(ZipReader, RejectsNonZipAndTinyInputs) {
  expect_error(ZipArchive::open(as_bytes(""), "e.zip"), StatusCode::kCorruptFile, "e.zip");
  expect_error(ZipArchive::open(as_bytes(std::string(100, 'z')), "z.zip"), StatusCode::kCorruptFile,
               "end-of-central-directory");
}

TEST(ZipReader, RejectsCentralDirectoryOutsideFile) {
  std::string zip = make_zip({{"a/x", "abc"}});
  const size_t eocd = zip.size() - 22;
  std::string bad = zip;
  bad.replace(eocd + 16, 4, std::string("\xff\xff\x00\x00", 4));  // cd offset 65535
  expect_error(ZipArchive::open(as_bytes(bad), "t.zip"), StatusCode::kCorruptFile, "central directory (offset 65535");
  bad = zip;
  bad.replace(eocd + 12, 4, std::string("\x00\x10\x00\x00", 4));  // cd size 4096
  expect_error(ZipArchive::open(as_bytes(bad), "t.zip"), StatusCode::kCorruptFile, "outside the file");
  bad = zip;
  bad.replace(eocd + 8, 4, std::string("\xff\xff\xff\xff", 4));  // 65535 entries in 49 bytes
  expect_error(ZipArchive::open(as_bytes(bad), "t.zip"), StatusCode::kCorruptFile, "claims 65535 entries");
}

TEST(ZipReader, RejectsBadLocalHeaderOffsetAndSizes) {
  const std::string zip = make_zip({{"a/x", "abcdef"}});
  const size_t cd = zip.size() - 22 - (46 + 3);
  std::string bad = zip;
  bad.replace(cd + 42, 4, std::string("\x00\x00\x01\x00", 4));  // local header at 65536
  expect_error(ZipArchive::open(as_bytes(bad), "t.zip"), StatusCode::kCorruptFile, "local header offset 65536");
  bad = zip;
  bad.replace(cd + 42, 4, std::string("\x01\x00\x00\x00", 4));  // points inside the header
  expect_error(ZipArchive::open(as_bytes(bad), "t.zip"), StatusCode::kCorruptFile, "local header signature");
  bad = zip;
  bad.replace(cd + 20, 8, std::string("\x00\x01\x00\x00\x00\x01\x00\x00", 8));  // sizes 256
  expect_error(ZipArchive::open(as_bytes(bad), "t.zip"), StatusCode::kCorruptFile, "runs past the data area");
  bad = zip;
  bad.replace(cd + 28, 2, std::string("\xff\x00", 2));  // name length 255 runs off the directory
  expect_error(ZipArchive::open(as_bytes(bad), "t.zip"), StatusCode::kCorruptFile, "run past the end");
}

TEST(ZipReader, RejectsDuplicateNames) {
  const std::string zip = make_zip({{"a/x", "1"}, {"a/x", "2"}});
  expect_error(ZipArchive::open(as_bytes(zip), "t.zip"), StatusCode::kCorruptFile, "appears twice");
}

TEST(ZipReader, RefusesCompressedEntriesAndBadCrc) {
  const std::string zip = make_zip({{"a/x", "abcdef"}});
  const size_t cd = zip.size() - 22 - (46 + 3);
  std::string bad = zip;
  bad[cd + 10] = 8;  // deflate
  auto z = ZipArchive::open(as_bytes(bad), "t.zip");
  ASSERT_TRUE(z.ok());
  auto r = z->read(z->entries()[0]);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("compression method 8"), std::string::npos) << r.status().message();

  bad = zip;
  bad[30 + 3] = 'X';  // first data byte
  z = ZipArchive::open(as_bytes(bad), "t.zip");
  ASSERT_TRUE(z.ok());
  r = z->read(z->entries()[0]);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("CRC-32 mismatch"), std::string::npos) << r.status().message();
  EXPECT_TRUE(z->read(z->entries()[0], /*verify_crc=*/false).ok());
}

TEST(ZipReader, Zip64ExtraFieldSuppliesSizesAndOffset) {
  // Central entry with 0xFFFFFFFF sizes/offset and a ZIP64 extra field carrying the real values.
  const std::string data = "payload";
  std::string out;
  put_le(out, 0x04034b50, 4);
  put_le(out, 45, 2);
  put_le(out, 0, 2 + 2 + 4);
  put_le(out, testing::crc_of(data), 4);
  put_le(out, 0, 8);
  put_le(out, 3, 2);
  put_le(out, 0, 2);
  out += "a/z" + data;
  const size_t cd_offset = out.size();
  std::string cd;
  put_le(cd, 0x02014b50, 4);
  put_le(cd, 45, 2);
  put_le(cd, 45, 2);
  put_le(cd, 0, 2 + 2 + 4);
  put_le(cd, testing::crc_of(data), 4);
  put_le(cd, 0xFFFFFFFF, 4);
  put_le(cd, 0xFFFFFFFF, 4);
  put_le(cd, 3, 2);
  put_le(cd, 4 + 24, 2);  // extra
  put_le(cd, 0, 2 + 2 + 2 + 4);
  put_le(cd, 0xFFFFFFFF, 4);
  cd += "a/z";
  put_le(cd, 0x0001, 2);
  put_le(cd, 24, 2);
  put_le(cd, data.size(), 8);
  put_le(cd, data.size(), 8);
  put_le(cd, 0, 8);
  out += cd;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);
  put_le(out, 1, 2);
  put_le(out, 1, 2);
  put_le(out, cd.size(), 4);
  put_le(out, cd_offset, 4);
  put_le(out, 0, 2);
  auto z = ZipArchive::open(as_bytes(out), "z64.zip");
  ASSERT_TRUE(z.ok()) << z.status().to_string();
  EXPECT_EQ(z->entries()[0].size, data.size());
  EXPECT_EQ(str(*z->read(z->entries()[0])), data);

  // The same entry without the extra field: the 0xFFFFFFFF values must not be trusted.
  std::string no_extra = out;
  no_extra.replace(cd_offset + 30, 2, std::string("\x00\x00", 2));
  expect_error(ZipArchive::open(as_bytes(no_extra), "z64.zip"), StatusCode::kCorruptFile, "no ZIP64 extra field");
}

TEST(ZipReader, Zip64EndRecordOffsetIsChecked) {
  auto bytes = read_file(kFixture);
  ASSERT_TRUE(bytes.ok());
  std::string s = str(*bytes);
  const size_t locator = s.size() - 22 - 20;
  ASSERT_EQ(s.substr(locator, 4), std::string("PK\x06\x07", 4));
  std::string bad = s;
  bad.replace(locator + 8, 8, std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8));
  expect_error(ZipArchive::open(as_bytes(bad), "ckpt.pt"), StatusCode::kCorruptFile, "ZIP64 end-of-central-directory");
  // The ZIP64 record's central-directory offset pointing past the file.
  const size_t z64 = locator - 56;
  ASSERT_EQ(s.substr(z64, 4), std::string("PK\x06\x06", 4));
  bad = s;
  bad.replace(z64 + 48, 8, std::string("\x00\x00\x00\x00\x00\x00\x01\x00", 8));
  expect_error(ZipArchive::open(as_bytes(bad), "ckpt.pt"), StatusCode::kCorruptFile, "central directory (offset");
}

}  // namespace
}  // namespace tessera
