// Arena: aligned, grows only when asked for more, NaN-fills fresh bytes unless told not to.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

#include "memory/arena.h"

using namespace edgeai;

TEST_CASE("an arena is aligned, NaN-filled by default and grows only when asked for more", "[memory]") {
  Arena arena;
  CHECK(arena.capacity() == 0);
  REQUIRE(arena.Reserve(100).ok());
  CHECK(arena.capacity() >= 100);
  CHECK(reinterpret_cast<uintptr_t>(arena.data()) % Arena::kAlignment == 0);
  for (size_t i = 0; i < 100; ++i) CHECK(arena.data()[i] == 0xff);
  const uint8_t* before = arena.data();
  REQUIRE(arena.Reserve(50).ok());  // enough room already: same bytes
  CHECK(arena.data() == before);
  REQUIRE(arena.Reserve(1 << 20).ok());
  CHECK(arena.capacity() >= (1u << 20));
  CHECK(reinterpret_cast<uintptr_t>(arena.data()) % Arena::kAlignment == 0);
  CHECK(arena.data()[(1 << 20) - 1] == 0xff);
}

TEST_CASE("an arena reserved without filling is usable", "[memory]") {
  Arena arena;
  REQUIRE(arena.Reserve(4096, false).ok());
  CHECK(arena.capacity() >= 4096);
  std::memset(arena.data(), 7, 4096);
  CHECK(arena.data()[4095] == 7);
}
