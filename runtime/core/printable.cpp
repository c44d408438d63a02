#include "core/printable.h"

#include <cstdio>

namespace tessera {
namespace {

void append_hex_byte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(c));
  out += buf;
}

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when it is not one (overlong, surrogate,
// beyond U+10FFFF, truncated). `code` receives the code point.
size_t utf8_sequence(std::string_view s, size_t i, char32_t* code) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  size_t n = 0;
  char32_t cp = 0, min = 0;
  if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  *code = cp;
  return n;
}

std::string escape(std::string_view text, bool running_text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (running_text && (c == '\n' || c == '\t' || c == '\\')) {
        out += char(c);
        ++i;
        continue;
      }
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\\': out += "\\\\"; break;
        default:
          if (c < 0x20 || c == 0x7f) append_hex_byte(out, c);
          else out += char(c);
      }
      ++i;
      continue;
    }
    if (running_text) {  // a token may hold part of a UTF-8 sequence: non-ASCII bytes pass
      out += char(c);
      ++i;
      continue;
    }
    char32_t cp = 0;
    const size_t n = utf8_sequence(text, i, &cp);
    if (n == 0) {
      append_hex_byte(out, c);
      ++i;
    } else if (cp <= 0x9f) {  // C1 controls (e.g. U+009B, a one-character CSI on some terminals)
      char buf[12];
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(cp));
      out += buf;
      i += n;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace

std::string printable(std::string_view text) { return escape(text, false); }
std::string printable_text(std::string_view text) { return escape(text, true); }

std::string printable_prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return printable(text);
  return printable(text.substr(0, max_bytes)) + "...";
}

}  // namespace tessera
