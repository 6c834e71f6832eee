#include "terminal.hpp"

#include "evnet/ui/view_model.hpp"

#include <curses.h>

#include <algorithm>
#include <clocale>

namespace evnet::ui {

namespace {

short pair_of(paint p) {
  return static_cast<short>(static_cast<int>(p));
}

} // namespace

terminal::terminal() {
  // LC_CTYPE only: ncursesw needs it for UTF-8, while LC_NUMERIC must stay
  // "C" so that JSON and prices keep their decimal point.
  std::setlocale(LC_CTYPE, "");
  // Short ESC delay so that ESC cancels a prompt at once.
  set_escdelay(25);
  SCREEN* screen = newterm(nullptr, stdout, stdin);
  if (screen == nullptr) {
    return;
  }
  screen_ = screen;
  active_ = true;
  cbreak();  // Ctrl-C still raises SIGINT, which the process turns into quit
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  curs_set(0);
  init_colours();
}

terminal::~terminal() {
  restore();
}

void terminal::restore() {
  if (!active_) {
    return;
  }
  active_ = false;
  curs_set(1);
  endwin();
  delscreen(static_cast<SCREEN*>(screen_));
  screen_ = nullptr;
}

void terminal::init_colours() {
  has_colours_ = has_colors();
  if (!has_colours_) {
    return;
  }
  start_color();
  use_default_colors();
  many_colours_ = COLORS >= 256;
  const short orange = many_colours_ ? 208 : COLOR_YELLOW;
  const short grey = many_colours_ ? 244 : COLOR_WHITE;
  const short light_blue = many_colours_ ? 39 : COLOR_BLUE;
  const short none = -1;

  init_pair(pair_of(paint::title), COLOR_BLACK, COLOR_CYAN);
  init_pair(pair_of(paint::tile_active), COLOR_BLACK, COLOR_GREEN);
  init_pair(pair_of(paint::tile_busy), COLOR_WHITE, COLOR_BLUE);
  init_pair(pair_of(paint::tile_broken), COLOR_WHITE, COLOR_RED);
  init_pair(pair_of(paint::tile_out_of_order), COLOR_BLACK, orange);
  init_pair(pair_of(paint::tile_disconnected), COLOR_BLACK, grey);
  init_pair(pair_of(paint::tile_unknown), none, none);
  init_pair(pair_of(paint::text_active), COLOR_GREEN, none);
  init_pair(pair_of(paint::text_busy), light_blue, none);
  init_pair(pair_of(paint::text_broken), COLOR_RED, none);
  init_pair(pair_of(paint::text_out_of_order), orange, none);
  init_pair(pair_of(paint::text_disconnected), grey, none);
  init_pair(pair_of(paint::good), COLOR_GREEN, none);
  init_pair(pair_of(paint::bad), COLOR_RED, none);
  init_pair(pair_of(paint::warn), COLOR_YELLOW, none);
  init_pair(pair_of(paint::dim), grey, none);
}

int terminal::rows() const {
  return active_ ? LINES : 24;
}

int terminal::cols() const {
  return active_ ? COLS : 80;
}

int terminal::read_key() {
  if (!active_) {
    return key_none;
  }
  wint_t ch = 0;
  int r = get_wch(&ch);
  if (r == ERR) {
    return key_none;
  }
  if (r == KEY_CODE_YES) {
    switch (ch) {
      case KEY_RESIZE:
        return key_resize;
      case KEY_UP:
        return keys::up;
      case KEY_DOWN:
        return keys::down;
      case KEY_LEFT:
        return keys::left;
      case KEY_RIGHT:
        return keys::right;
      case KEY_NPAGE:
        return keys::page_down;
      case KEY_PPAGE:
        return keys::page_up;
      case KEY_HOME:
        return keys::home;
      case KEY_END:
        return keys::end;
      case KEY_ENTER:
        return keys::enter;
      case KEY_BACKSPACE:
        return keys::backspace;
      default:
        return key_none;
    }
  }
  if (ch == '\r' || ch == '\n') {
    return keys::enter;
  }
  if (ch == 8 || ch == 127) {
    return keys::backspace;
  }
  return static_cast<int>(ch);
}

void terminal::begin_frame() {
  if (!active_) {
    return;
  }
  erase();
  cursor_y_ = -1;
  cursor_x_ = -1;
}

void terminal::end_frame() {
  if (!active_) {
    return;
  }
  if (cursor_y_ >= 0) {
    curs_set(1);
    move(cursor_y_, cursor_x_);
  } else {
    curs_set(0);
  }
  refresh();
}

void terminal::put(int y, int x, std::string_view text, int width, paint p, unsigned how) {
  if (!active_ || y < 0 || y >= LINES || x < 0 || x >= COLS || width <= 0) {
    return;
  }
  width = std::min(width, COLS - x);
  attr_t attrs = (how & style::bold) != 0 ? A_BOLD : A_NORMAL;
  if ((how & style::reverse) != 0) {
    attrs |= A_REVERSE;
  }
  short pair = 0;
  if (has_colours_) {
    pair = pair_of(p);
    if (p == paint::normal || p == paint::heading || p == paint::selected) {
      pair = 0;
    }
    if (!many_colours_ && (p == paint::dim || p == paint::text_disconnected)) {
      attrs |= A_DIM;
    }
  } else if (p == paint::title || (p >= paint::tile_active && p <= paint::tile_disconnected)) {
    attrs |= A_REVERSE;
  }
  if (p == paint::heading) {
    attrs |= A_BOLD;
  }
  if (p == paint::selected) {
    attrs |= A_REVERSE;
  }
  std::string shown = clip(text, static_cast<std::size_t>(width));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 32 || c == 127) {
      c = ' ';
    }
  }
  if ((how & style::pad) != 0) {
    shown.append(static_cast<std::size_t>(width) - display_width(shown), ' ');
  }
  attr_set(attrs, pair, nullptr);
  mvaddstr(y, x, shown.c_str());
  attr_set(A_NORMAL, 0, nullptr);
}

void terminal::fill(int y, int x, int height, int width, paint p) {
  for (int row = 0; row < height; ++row) {
    put(y + row, x, "", width, p, style::pad);
  }
}

void terminal::place_cursor(int y, int x) {
  if (y >= 0 && y < LINES && x >= 0 && x < COLS) {
    cursor_y_ = y;
    cursor_x_ = x;
  }
}

} // namespace evnet::ui
