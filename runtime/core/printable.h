// Text that came from a file, made safe to print on a terminal or in a log: control characters
// (C0, DEL, C1), NUL bytes and invalid UTF-8 become visible escapes (\n, \t, \x1b, \u0085, ...),
// so a metadata string cannot clear a screen, move the cursor or cut a message short. Valid
// printable UTF-8 passes unchanged. Everything printed from a file goes through this one helper.
#pragma once

#include <string>
#include <string_view>

namespace tessera {

std::string printable(std::string_view text);

// For running text a model generates (its tokenizer's tokens come from the file): line breaks,
// tabs, backslashes and non-ASCII bytes (a token may end inside a UTF-8 sequence) stay as they
// are; every other ASCII control character (ESC, CR, NUL, ...) is escaped as above.
std::string printable_text(std::string_view text);

// printable(text), cut to at most `max_bytes` of input with "..." (long metadata in one-line messages).
std::string printable_prefix(std::string_view text, size_t max_bytes);

}  // namespace tessera
