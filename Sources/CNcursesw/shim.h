#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/ncurses.h>
// Macros do not import into Swift: re-export the ones the Terminal module uses.
static inline attr_t voxterm_a_normal(void) { return A_NORMAL; }
static inline attr_t voxterm_a_bold(void) { return A_BOLD; }
static inline attr_t voxterm_a_reverse(void) { return A_REVERSE; }
static inline mmask_t voxterm_all_mouse_events(void) { return ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION; }
static inline mmask_t voxterm_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t voxterm_button1_released(void) { return BUTTON1_RELEASED; }
static inline mmask_t voxterm_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t voxterm_button4_pressed(void) { return BUTTON4_PRESSED; }
static inline mmask_t voxterm_button5_pressed(void) { return BUTTON5_PRESSED; }
static inline mmask_t voxterm_report_mouse_position(void) { return REPORT_MOUSE_POSITION; }
static inline int voxterm_key_resize(void) { return KEY_RESIZE; }
static inline int voxterm_key_mouse(void) { return KEY_MOUSE; }
static inline mmask_t voxterm_button2_pressed(void) { return BUTTON2_PRESSED; }
static inline mmask_t voxterm_button3_pressed(void) { return BUTTON3_PRESSED; }
static inline mmask_t voxterm_button_released_any(void) { return BUTTON1_RELEASED | BUTTON2_RELEASED | BUTTON3_RELEASED; }
static inline int voxterm_key_code_yes(void) { return KEY_CODE_YES; }
static inline int voxterm_key_f0(void) { return KEY_F0; }
// Globals read through functions, so Swift 6 mode sees calls instead of shared mutable variables.
static inline WINDOW *voxterm_stdscr(void) { return stdscr; }
static inline WINDOW *voxterm_curscr(void) { return curscr; }
static inline int voxterm_cols(void) { return COLS; }
static inline int voxterm_lines(void) { return LINES; }
static inline FILE *voxterm_stdin(void) { return stdin; }
static inline FILE *voxterm_stdout(void) { return stdout; }
