// Text from a file is escaped before it is printed: no terminal control sequence, NUL or invalid
// UTF-8 reaches a terminal; printable UTF-8 passes unchanged.
#include "core/printable.h"

#include <gtest/gtest.h>

namespace tessera {
namespace {

using namespace std::string_literals;

TEST(Printable, ControlCharactersNulAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(printable("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
  EXPECT_EQ(printable("a\0b"s), "a\\x00b");
  EXPECT_EQ(printable("tab\there\nline\r\x7f\\"), "tab\\there\\nline\\r\\x7f\\\\");
  EXPECT_EQ(printable("\xc2\x9b"
                      "31m"),
            "\\u009b31m")
      << "C1 CSI encoded as UTF-8";
  EXPECT_EQ(printable("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(printable("\xe2\x82"), "\\xe2\\x82") << "a truncated sequence";
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf") << "an overlong '/'";
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a UTF-16 surrogate";
}

TEST(Printable, PrintableUtf8PassesUnchanged) {
  const std::string s = "memory-mosaics.attention = \"Épanechnikov\" 注意 \xf0\x9f\x98\x80";
  EXPECT_EQ(printable(s), s);
  EXPECT_EQ(printable_prefix("abcdef", 3), "abc...");
  EXPECT_EQ(printable_prefix("ab\x1b", 8), "ab\\x1b");
}

TEST(Printable, RunningTextKeepsLineBreaksAndBytesButNotEscapes) {
  EXPECT_EQ(printable_text("line one\nline\ttwo \\ \xe2\x82"), "line one\nline\ttwo \\ \xe2\x82");
  EXPECT_EQ(printable_text("\x1b]0;title\x07\r"), "\\x1b]0;title\\x07\\r");
}

}  // namespace
}  // namespace tessera
