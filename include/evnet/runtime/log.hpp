#pragma once

// Process log. A panel owns the terminal, so logs never go to stdout: they go
// to a file (--log FILE) or, in headless mode, to stderr (stdout carries the
// JSON event stream).
//
// Thread-safety: log_line() may be called from any thread.

#include <string>
#include <string_view>

namespace evnet::runtime {

// Opens `path` for appending; empty means stderr. Returns false (and keeps
// stderr) when the file cannot be opened.
bool open_log(const std::string& path);
void log_line(std::string_view component, std::string_view text);

} // namespace evnet::runtime
