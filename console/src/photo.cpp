#include "photo.hpp"

#include <GL/gl.h>
#include <stb/stb_image.h>

#include <functional>
#include <map>

namespace anxin::console {
namespace {

struct Cached {
  size_t hash = 0;
  GLuint texture = 0;
  PhotoTexture photo;
};

// A few dozen elders are looked at in a shift; their textures are small (at most a
// 32 KiB file). They live as long as the GL context, which is the program's.
std::map<ElderId, Cached>& cache() {
  static std::map<ElderId, Cached> c;
  return c;
}

}  // namespace

const PhotoTexture& photo_texture(ElderId elder, const std::string& bytes) {
  Cached& c = cache()[elder];
  const size_t hash = std::hash<std::string>{}(bytes);
  if (c.photo.id && c.hash == hash) return c.photo;
  if (!c.photo.id && c.hash == hash && hash) return c.photo;  // tried already: not a picture
  if (c.texture) glDeleteTextures(1, &c.texture);
  c = Cached{hash, 0, {}};
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = bytes.empty() ? nullptr
                                        : stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                                                                static_cast<int>(bytes.size()), &w, &h, &n, 4);
  if (!pixels) return c.photo;
  glGenTextures(1, &c.texture);
  glBindTexture(GL_TEXTURE_2D, c.texture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
  stbi_image_free(pixels);
  c.photo = {reinterpret_cast<ImTextureID>(static_cast<intptr_t>(c.texture)), w, h};
  return c.photo;
}

}  // namespace anxin::console
