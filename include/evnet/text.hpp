#pragma once

// Text a peer chose, made safe to print and to trust.
//
// Identifiers on the wire (CP, driver, charge and request ids) use a small
// safe alphabet: letters, digits, '-', '_' and '.'; anything else is refused
// at decode. Routing ids and other bytes a peer picked are shown through
// printable_id(), which never lets a control character, a quote or invalid
// UTF-8 reach a terminal, a log line or a JSON line unescaped.
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>

namespace evnet {

// True for [A-Za-z0-9._-]{1,max_size}.
bool is_safe_id(std::string_view s, std::size_t max_size = 64);

// `s` itself when every byte is a letter, digit or one of "-_.:@" (our own
// routing ids look like "driver:D1:0a1b2c3d"); otherwise "0x" followed by
// its bytes in hex (at most the first 64 bytes, then "...").
std::string printable_id(std::string_view s);

// Free text a peer chose (an HTTP request target, say), kept readable:
// printable ASCII stays as it is, but for '\\'; every other byte (control
// characters, anything beyond ASCII, so invalid UTF-8 too) becomes \xNN.
// At most the first `max_size` bytes are shown, then "...".
std::string printable_text(std::string_view s, std::size_t max_size = 256);

} // namespace evnet
