#include <png.h>
// Macros do not import into Swift: re-export what the simplified API needs.
static const unsigned int voxterm_png_image_version = PNG_IMAGE_VERSION;
static const unsigned int voxterm_png_format_rgba = PNG_FORMAT_RGBA;
static const unsigned int voxterm_png_format_rgb = PNG_FORMAT_RGB;
static const unsigned int voxterm_png_format_gray = PNG_FORMAT_GRAY;
static inline int voxterm_png_image_failed(png_imagep image) { return PNG_IMAGE_FAILED(*image); }
static const unsigned int voxterm_png_image_flag_fast = PNG_IMAGE_FLAG_FAST;
