// Private to dispatch-core's Store: the registry's rows read into the compact tables
// (issue 15, item 5). All of them at a start from the rows (Store::load), or only
// those changed since the registry's image was written, read over it (store_image.cpp).
#pragma once

#include <sqlite3.h>

#include <exception>
#include <string>
#include <thread>

#include "anxin/core/device_table.hpp"
#include "anxin/core/elder_table.hpp"

namespace anxin::store_registry {

// Which rows: every one, or those named in registry_changed_elders or
// registry_changed_devices (the triggers of registry_image.hpp fill them).
enum class Rows { all, changed };

// The devices' rows, in the table's order.
DeviceTable read_devices(sqlite3* db, Rows rows);
// The elders' rows with their emergency contacts, in id order.
ElderTable read_elders(sqlite3* db, Rows rows);

// Every device's row, read on a thread of its own and a read-only connection to
// `path` of its own, while the caller reads the elders: the two cores halve a read
// of a city's rows. Into `devices`, or what it threw into `failed`, once the thread
// is joined.
std::jthread read_devices_beside(const std::string& path, DeviceTable& devices, std::exception_ptr& failed);

}  // namespace anxin::store_registry
