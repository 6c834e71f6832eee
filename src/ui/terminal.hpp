#pragma once

// The one place that talks to ncurses. A terminal object owns the screen
// from construction until restore() or destruction, whichever comes first,
// so every exit path (quit, core down, exception) gives the shell back.
//
// Thread-safety: none. Only the panel actor (a detached actor, hence one
// thread) may use it.

#include <cstddef>
#include <string>
#include <string_view>

namespace evnet::ui {

// What a cell means; the terminal maps it to a colour pair and attributes.
enum class paint {
  normal,
  title,      // the top bar
  // Tiles: coloured background by CP state.
  tile_active,
  tile_busy,
  tile_broken,
  tile_out_of_order,
  tile_disconnected,
  tile_unknown,
  // Text: coloured foreground by CP state.
  text_active,
  text_busy,
  text_broken,
  text_out_of_order,
  text_disconnected,
  good,
  bad,
  warn,
  dim,
  heading,
  selected,  // the highlighted row of a list
};

// How text is drawn, on top of its paint. Combine with |.
namespace style {
inline constexpr unsigned plain = 0;
inline constexpr unsigned bold = 1;
inline constexpr unsigned reverse = 2;
inline constexpr unsigned pad = 4;  // fill the rest of the width with the background
} // namespace style

// Returned by read_key() when the terminal was resized.
inline constexpr int key_resize = 0x1100FF;
// Returned by read_key() when no key is waiting.
inline constexpr int key_none = -1;

class terminal {
public:
  // Takes over stdin/stdout. When they are not a terminal (or TERM is
  // unknown), active() is false and every call is a no-op: initscr() would
  // exit the whole process instead.
  terminal();
  ~terminal();
  terminal(const terminal&) = delete;
  terminal& operator=(const terminal&) = delete;

  // Gives the terminal back (endwin). Idempotent.
  void restore();
  bool active() const { return active_; }

  int rows() const;
  int cols() const;
  bool many_colours() const { return many_colours_; }

  // Never blocks: key_none when nothing is waiting. Special keys come back as
  // ui::keys codes, resizes as key_resize.
  int read_key();

  void begin_frame();  // erase the back buffer
  void end_frame();    // push the back buffer to the screen

  // Writes `text` at (y, x) clipped to `width` columns (and to the screen).
  // Control characters show as blanks so no event text can move the cursor.
  void put(int y, int x, std::string_view text, int width, paint p = paint::normal,
           unsigned how = style::plain);
  void fill(int y, int x, int height, int width, paint p);
  // Shows the cursor at (y, x), e.g. at the end of a prompt; hidden otherwise.
  void place_cursor(int y, int x);

private:
  void init_colours();

  void* screen_ = nullptr;  // SCREEN*, kept opaque so no header drags in curses.h
  bool active_ = false;
  bool has_colours_ = false;
  bool many_colours_ = false;
  int cursor_y_ = -1;
  int cursor_x_ = -1;
};

} // namespace evnet::ui
