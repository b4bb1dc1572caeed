#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "tools/npy.h"

using namespace edgeai;
using namespace edgeai::tools;

namespace {

const std::string kNpyDir = std::string(EDGEAI_TEST_DATA_DIR) + "/npy/";

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A .npy file with the given header dict text and data bytes (header padded numpy-style).
std::string Craft(const std::string& dict, const std::string& data = "", int major = 1, int minor = 0) {
  std::string header = dict + "\n";
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += static_cast<char>(minor);
  size_t len = header.size();
  int len_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < len_bytes; ++i) out += static_cast<char>((len >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string FloatBytes(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

// The error message of parsing `bytes`; checks that it is an invalid_argument naming the file.
std::string ParseError(const std::string& bytes) {
  Result<Tensor> t = ParseNpy(bytes, "crafted.npy");
  REQUIRE_FALSE(t.ok());
  CHECK(t.status().code() == StatusCode::kInvalidArgument);
  const std::string& message = t.status().message();
  CHECK(message.rfind("crafted.npy: ", 0) == 0);
  return message;
}

template <typename T>
Tensor Sequence(const Shape& shape) {
  std::vector<T> values(static_cast<size_t>(shape.NumElements()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(i * 3 + 1);
  return Tensor::FromVector<T>(shape, values);
}

void CheckSameTensor(const Tensor& a, const Tensor& b) {
  REQUIRE(a.dtype() == b.dtype());
  REQUIRE(a.shape() == b.shape());
  REQUIRE(a.ByteSize() == b.ByteSize());
  CHECK(std::memcmp(a.raw_data(), b.raw_data(), a.ByteSize()) == 0);
}

template <typename T>
void CheckRoundTrips() {
  for (const Shape& shape : {Shape{2, 3}, Shape{}, Shape{0, 3}, Shape{0}, Shape{5}, Shape{1, 2, 1, 2}}) {
    Tensor original = Sequence<T>(shape);
    std::string bytes = SerializeNpy(original);
    REQUIRE_FALSE(bytes.empty());
    Result<Tensor> back = ParseNpy(bytes, "mem");
    REQUIRE(back.ok());
    CheckSameTensor(original, *back);
  }
}

}  // namespace

TEST_CASE("npy round trips every supported dtype and shape", "[npy]") {
  CheckRoundTrips<float>();
  CheckRoundTrips<double>();
  CheckRoundTrips<int8_t>();
  CheckRoundTrips<int16_t>();
  CheckRoundTrips<int32_t>();
  CheckRoundTrips<int64_t>();
  CheckRoundTrips<uint8_t>();
  CheckRoundTrips<uint16_t>();
  CheckRoundTrips<uint32_t>();
  CheckRoundTrips<uint64_t>();
  Tensor half = Tensor::FromVector<Float16>(Shape{2}, {Float16{FloatToHalf(1.5f)}, Float16{FloatToHalf(-3.0f)}});
  Result<Tensor> back = ParseNpy(SerializeNpy(half), "mem");
  REQUIRE(back.ok());
  CheckSameTensor(half, *back);
  Tensor flags = Tensor::FromVector<bool>(Shape{3}, {true, false, true});
  back = ParseNpy(SerializeNpy(flags), "mem");
  REQUIRE(back.ok());
  CheckSameTensor(flags, *back);
}

TEST_CASE("npy writes numpy's header layout, padded to 64 bytes", "[npy]") {
  std::string bytes = SerializeNpy(Tensor::FromVector<float>(Shape{1, 784}, std::vector<float>(784, 0.0f)));
  CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  CHECK((10 + header_len) % 64 == 0);
  CHECK(bytes.substr(10, 61) == "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 784), }");
  CHECK(bytes[10 + header_len - 1] == '\n');
  CHECK(bytes.size() == 10 + header_len + 784 * 4);
  CHECK(NpyDescr(DataType::kBool) == "|b1");
  CHECK(NpyDescr(DataType::kString).empty());
}

TEST_CASE("npy writes version 2.0 when the header outgrows 16 bits", "[npy]") {
  std::vector<int64_t> dims(30000, 1);
  Tensor t = Tensor::FromVector<float>(Shape(dims), {2.5f});
  std::string bytes = SerializeNpy(t);
  REQUIRE(bytes.size() > 65536);
  CHECK(bytes[6] == 2);
  Result<Tensor> back = ParseNpy(bytes, "big-header");
  REQUIRE(back.ok());
  CHECK(back->shape() == t.shape());
  CHECK(back->data<float>()[0] == 2.5f);
}

TEST_CASE("npy reads files written by numpy, and writes the same bytes back", "[npy]") {
  struct Case {
    const char* file;
    DataType dtype;
    Shape shape;
  };
  const Case cases[] = {
      {"f4_2x3.npy", DataType::kFloat32, Shape{2, 3}},   {"f8_scalar.npy", DataType::kFloat64, Shape{}},
      {"i8_1d.npy", DataType::kInt64, Shape{4}},         {"i4_empty_0x3.npy", DataType::kInt32, Shape{0, 3}},
      {"i1_2x2.npy", DataType::kInt8, Shape{2, 2}},      {"u1_3.npy", DataType::kUint8, Shape{3}},
      {"b1_2x2.npy", DataType::kBool, Shape{2, 2}},      {"f2_3.npy", DataType::kFloat16, Shape{3}},
  };
  for (const Case& c : cases) {
    INFO(c.file);
    std::string path = kNpyDir + c.file;
    Result<Tensor> t = ReadNpy(path);
    REQUIRE(t.ok());
    CHECK(t->dtype() == c.dtype);
    CHECK(t->shape() == c.shape);
    CHECK(SerializeNpy(*t) == ReadFileBytes(path));
  }
  Result<Tensor> f4 = ReadNpy(kNpyDir + "f4_2x3.npy");
  REQUIRE(f4.ok());
  CHECK(std::vector<float>(f4->data<float>(), f4->data<float>() + 6) ==
        std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f});
  CHECK(ReadNpy(kNpyDir + "f8_scalar.npy")->data<double>()[0] == 3.25);
  Result<Tensor> i8 = ReadNpy(kNpyDir + "i8_1d.npy");
  CHECK(std::vector<int64_t>(i8->data<int64_t>(), i8->data<int64_t>() + 4) ==
        std::vector<int64_t>{-(int64_t{1} << 40), -1, 0, 7});
  Result<Tensor> i1 = ReadNpy(kNpyDir + "i1_2x2.npy");
  CHECK(i1->data<int8_t>()[0] == -128);
  CHECK(i1->data<int8_t>()[3] == 127);
  CHECK(ReadNpy(kNpyDir + "u1_3.npy")->data<uint8_t>()[2] == 255);
  Result<Tensor> b1 = ReadNpy(kNpyDir + "b1_2x2.npy");
  CHECK(b1->data<bool>()[0]);
  CHECK_FALSE(b1->data<bool>()[1]);
  Result<Tensor> f2 = ReadNpy(kNpyDir + "f2_3.npy");
  CHECK(HalfToFloat(f2->data<uint16_t>()[0]) == 1.5f);
  CHECK(HalfToFloat(f2->data<uint16_t>()[2]) == 65504.0f);
}

TEST_CASE("npy reads format versions 2.0 and 3.0", "[npy]") {
  Result<Tensor> v2 = ReadNpy(kNpyDir + "f4_v2.npy");
  REQUIRE(v2.ok());
  CHECK(v2->shape() == Shape{2, 2});
  CHECK(v2->data<float>()[3] == 4.0f);
  Result<Tensor> v3 = ReadNpy(kNpyDir + "f4_v3.npy");
  REQUIRE(v3.ok());
  CHECK(v3->shape() == Shape{3});
  CHECK(v3->data<float>()[2] == 3.0f);
}

TEST_CASE("npy file errors name the file", "[npy]") {
  Result<Tensor> fortran = ReadNpy(kNpyDir + "f4_fortran_2x3.npy");
  REQUIRE_FALSE(fortran.ok());
  CHECK(fortran.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(fortran.status().message(), Catch::Contains("f4_fortran_2x3.npy") && Catch::Contains("Fortran"));
  Result<Tensor> big = ReadNpy(kNpyDir + "f4_bigendian.npy");
  REQUIRE_FALSE(big.ok());
  CHECK_THAT(big.status().message(), Catch::Contains("f4_bigendian.npy") && Catch::Contains("big-endian"));
  Result<Tensor> complex = ReadNpy(kNpyDir + "c8_complex.npy");
  REQUIRE_FALSE(complex.ok());
  CHECK_THAT(complex.status().message(), Catch::Contains("'<c8'") && Catch::Contains("complex"));
  Result<Tensor> missing = ReadNpy(kNpyDir + "no_such_file.npy");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains("no_such_file.npy"));
  Result<Tensor> folder = ReadNpy(kNpyDir);
  REQUIRE_FALSE(folder.ok());
  CHECK_THAT(folder.status().message(), Catch::Contains("directory"));
}

TEST_CASE("npy rejects bad magic and unsupported versions", "[npy]") {
  CHECK_THAT(ParseError("PK\x03\x04 not numpy at all"), Catch::Contains("bad magic"));
  CHECK_THAT(ParseError("\x93NUMPX\x01\x00"), Catch::Contains("bad magic"));
  CHECK_THAT(ParseError("abc"), Catch::Contains("bad magic"));
  CHECK_THAT(ParseError(""), Catch::Contains("truncated header"));
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }";
  CHECK_THAT(ParseError(Craft(dict, FloatBytes({1}), 4)), Catch::Contains("unsupported .npy format version 4.0"));
  CHECK_THAT(ParseError(Craft(dict, FloatBytes({1}), 1, 1)), Catch::Contains("version 1.1"));
  CHECK_THAT(ParseError(Craft(dict, FloatBytes({1}), 0)), Catch::Contains("version 0.0"));
  // The header length points past the end of the file.
  CHECK_THAT(ParseError(Craft(dict).substr(0, 30)), Catch::Contains("truncated header"));
  CHECK(ParseNpy(Craft(dict, FloatBytes({1})), "ok.npy").ok());
}

TEST_CASE("npy rejects malformed header dicts", "[npy]") {
  const char* bad_dicts[] = {
      "not a dict",
      "['descr', '<f4']",
      "{'descr': '<f4', 'fortran_order': False}",                              // no shape
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",  // unknown key
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': 5, }",
      "{'descr': '<f4', 'fortran_order': 'no', 'shape': (1,), }",
      "{'descr': 4, 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f4, 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (1,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } trailing",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,",
      "{1: '<f4'}",
  };
  for (const char* dict : bad_dicts) {
    INFO(dict);
    CHECK_THAT(ParseError(Craft(dict, FloatBytes({1}))), Catch::Contains("malformed header"));
  }
  // Whitespace, double quotes and Python 2 longs are fine.
  Result<Tensor> t = ParseNpy(Craft("{ \"shape\" : ( 2L , ) , \"fortran_order\":False,\"descr\":\"<f4\"}",
                                    FloatBytes({1, 2})),
                              "py2.npy");
  REQUIRE(t.ok());
  CHECK(t->shape() == Shape{2});
}

TEST_CASE("npy rejects Fortran order, big-endian and unsupported dtypes", "[npy]") {
  CHECK_THAT(ParseError(Craft("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", FloatBytes({1, 2, 3, 4}))),
             Catch::Contains("Fortran"));
  // Rank 1 Fortran order has the same layout as C order.
  CHECK(ParseNpy(Craft("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", FloatBytes({1, 2})), "f").ok());
  CHECK_THAT(ParseError(Craft("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", std::string("\0\0\0\1", 4))),
             Catch::Contains("big-endian"));
  // Byte order does not matter for single bytes.
  CHECK(ParseNpy(Craft("{'descr': '>i1', 'fortran_order': False, 'shape': (1,), }", "\x05"), "i1").ok());
  struct Case {
    const char* descr;
    const char* expect;
  };
  const Case cases[] = {{"<c8", "complex"},     {"<U5", "unicode"},       {"|S3", "byte string"},
                        {"|O", "object"},       {"<M8[ns]", "datetime"}, {"<f16", "size"},
                        {"<i3", "size"},        {"|b2", "size"},          {"", "empty"}};
  for (const Case& c : cases) {
    INFO(c.descr);
    std::string message = ParseError(
        Craft(std::string("{'descr': '") + c.descr + "', 'fortran_order': False, 'shape': (1,), }", "12345678"));
    CHECK_THAT(message, Catch::Contains("unsupported dtype '" + std::string(c.descr) + "'") &&
                            Catch::Contains(c.expect));
  }
  CHECK_THAT(ParseError(Craft("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                              "12345678")),
             Catch::Contains("structured"));
}

TEST_CASE("npy rejects data that does not match the shape", "[npy]") {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  std::string message = ParseError(Craft(dict, FloatBytes({1, 2, 3})));
  CHECK_THAT(message, Catch::Contains("truncated") && Catch::Contains("16 bytes") && Catch::Contains("12"));
  CHECK_THAT(ParseError(Craft(dict, FloatBytes({1, 2, 3, 4, 5}))), Catch::Contains("size mismatch"));
  CHECK_THAT(ParseError(Craft(dict)), Catch::Contains("truncated"));
  CHECK_THAT(ParseError(Craft("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }")),
             Catch::Contains("too large"));
}

TEST_CASE("npy normalises bool bytes to 0 and 1", "[npy]") {
  Result<Tensor> t = ParseNpy(Craft("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", std::string("\x02\x00\xff", 3)),
                              "b");
  REQUIRE(t.ok());
  const auto* bytes = static_cast<const unsigned char*>(t->raw_data());
  CHECK(bytes[0] == 1);
  CHECK(bytes[1] == 0);
  CHECK(bytes[2] == 1);
}

TEST_CASE("npy files round trip through disk, and write errors are reported", "[npy]") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("edgeai_npy_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "t.npy").string();
  Tensor t = Sequence<int64_t>(Shape{3, 2});
  REQUIRE(WriteNpy(path, t).ok());
  Result<Tensor> back = ReadNpy(path);
  REQUIRE(back.ok());
  CheckSameTensor(t, *back);

  // A file cut short on disk.
  std::string bytes = ReadFileBytes(path);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 3);
  Result<Tensor> cut = ReadNpy(path);
  REQUIRE_FALSE(cut.ok());
  CHECK_THAT(cut.status().message(), Catch::Contains(path) && Catch::Contains("truncated"));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, 20);
  CHECK_THAT(ReadNpy(path).status().message(), Catch::Contains("truncated header"));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "hi";
  CHECK_THAT(ReadNpy(path).status().message(), Catch::Contains("bad magic"));

  Status bad_dir = WriteNpy((dir / "missing" / "t.npy").string(), t);
  CHECK(bad_dir.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad_dir.message(), Catch::Contains("missing"));
  Result<Tensor> text = Tensor::Allocate(DataType::kBFloat16, Shape{1});
  REQUIRE(text.ok());
  CHECK_THAT(WriteNpy(path, *text).message(), Catch::Contains("bfloat16"));
  fs::remove_all(dir);
}

TEST_CASE("npy survives every truncation and single-byte corruption", "[npy]") {
  std::string valid = SerializeNpy(Tensor::FromVector<int32_t>(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  for (size_t length = 0; length < valid.size(); ++length) {
    CHECK_FALSE(ParseNpy(valid.substr(0, length), "cut").ok());
  }
  const char replacements[] = {'\0', '\xff', '\'', '(', ')', '{', '}', ',', ':', '-', '9', '\n', 'L', '>'};
  int parsed = 0;
  for (size_t i = 0; i < valid.size(); ++i) {
    for (char c : replacements) {
      std::string mutated = valid;
      mutated[i] = c;
      Result<Tensor> t = ParseNpy(mutated, "mutated");
      if (t.ok()) {
        ++parsed;
        CHECK(t->ByteSize() <= valid.size());
      } else {
        CHECK_THAT(t.status().message(), Catch::StartsWith("mutated: "));
      }
    }
  }
  CHECK(parsed > 0);  // changing data bytes or padding leaves a valid file
}
