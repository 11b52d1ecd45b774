// Elders' photos as GL textures, for the care record (view_record.cpp). Decoded with
// stb_image on first use and kept per elder until the bytes change; UI thread only.
#pragma once

#include <imgui.h>

#include <string>

#include "anxin/core/domain.hpp"

namespace anxin::console {

struct PhotoTexture {
  ImTextureID id = nullptr;  // null: no picture, or it could not be decoded
  int width = 0, height = 0;
};

const PhotoTexture& photo_texture(ElderId elder, const std::string& bytes);

}  // namespace anxin::console
