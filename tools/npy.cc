#include "tools/npy.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

namespace edgeai::tools {
namespace {

// Tensor bytes are copied straight to and from the file, which is little-endian.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, ".npy I/O assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kAlign = 64;  // numpy pads the preamble to this, so data starts aligned when mapped

Status NpyError(const std::string& name, const std::string& message) {
  return InvalidArgument(name + ": " + message);
}

// A Python literal as found in .npy headers: the subset numpy writes (plus lists, for structured dtypes).
struct PyValue {
  enum class Kind { kString, kBool, kNone, kInt, kTuple, kList, kDict };
  Kind kind = Kind::kNone;
  std::string text;  // kString
  bool flag = false;  // kBool
  int64_t number = 0;  // kInt
  std::vector<PyValue> items;  // kTuple, kList; kDict as key, value pairs
};

class PyParser {
 public:
  explicit PyParser(std::string_view text) : text_(text) {}

  // Parses the whole text as one value; false with error() set otherwise.
  bool ParseAll(PyValue* out) {
    if (!ParseValue(out, 0)) return false;
    SkipSpace();
    if (pos_ != text_.size()) return Fail("unexpected text after the dict");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  static constexpr int kMaxDepth = 16;

  bool Fail(const std::string& message) {
    if (error_.empty()) error_ = message + " at offset " + std::to_string(pos_);
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool ParseValue(PyValue* out, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    SkipSpace();
    if (pos_ >= text_.size()) return Fail("unexpected end of header");
    char c = text_[pos_];
    if (c == '\'' || c == '"') return ParseString(out);
    if (c == '(') return ParseSequence(out, PyValue::Kind::kTuple, ')', depth);
    if (c == '[') return ParseSequence(out, PyValue::Kind::kList, ']', depth);
    if (c == '{') return ParseDict(out, depth);
    if ((c >= '0' && c <= '9') || c == '-') return ParseInt(out);
    if (ConsumeWord("True") || ConsumeWord("False")) {
      out->kind = PyValue::Kind::kBool;
      out->flag = c == 'T';
      return true;
    }
    if (ConsumeWord("None")) {
      out->kind = PyValue::Kind::kNone;
      return true;
    }
    return Fail(std::string("unexpected character '") + c + "'");
  }

  bool ParseString(PyValue* out) {
    char quote = text_[pos_++];
    out->kind = PyValue::Kind::kString;
    out->text.clear();
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out->text += text_[pos_++];
    }
    if (pos_ >= text_.size()) return Fail("unterminated string");
    ++pos_;
    return true;
  }

  bool ParseInt(PyValue* out) {
    bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    size_t start = pos_;
    uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + static_cast<uint64_t>(text_[pos_] - '0');
      if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Fail("integer too large");
      ++pos_;
    }
    if (pos_ == start) return Fail("expected digits");
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;  // Python 2 longs
    out->kind = PyValue::Kind::kInt;
    out->number = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    return true;
  }

  bool ParseSequence(PyValue* out, PyValue::Kind kind, char close, int depth) {
    ++pos_;
    out->kind = kind;
    out->items.clear();
    while (true) {
      if (Consume(close)) return true;
      out->items.emplace_back();
      if (!ParseValue(&out->items.back(), depth + 1)) return false;
      if (Consume(',')) continue;
      if (Consume(close)) return true;
      return Fail(std::string("expected ',' or '") + close + "'");
    }
  }

  bool ParseDict(PyValue* out, int depth) {
    ++pos_;
    out->kind = PyValue::Kind::kDict;
    out->items.clear();
    while (true) {
      if (Consume('}')) return true;
      PyValue key;
      if (!ParseValue(&key, depth + 1)) return false;
      if (!Consume(':')) return Fail("expected ':'");
      PyValue value;
      if (!ParseValue(&value, depth + 1)) return false;
      out->items.push_back(std::move(key));
      out->items.push_back(std::move(value));
      if (Consume(',')) continue;
      if (Consume('}')) return true;
      return Fail("expected ',' or '}'");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

struct NpyHeader {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  size_t data_offset = 0;  // bytes from the start of the file
  size_t data_bytes = 0;
};

std::string DescribeKind(char kind) {
  switch (kind) {
    case 'c': return "complex";
    case 'U': return "unicode string";
    case 'S':
    case 'a': return "byte string";
    case 'O': return "Python object";
    case 'V': return "void/raw bytes";
    case 'M': return "datetime64";
    case 'm': return "timedelta64";
    default: return "unknown kind";
  }
}

Result<DataType> ParseDescr(const std::string& descr, const std::string& name) {
  auto unsupported = [&](const std::string& why) {
    return NpyError(name, "unsupported dtype '" + descr + "' (" + why +
                              "); supported: float16/32/64, int8/16/32/64, uint8/16/32/64, bool");
  };
  if (descr.empty()) return unsupported("empty descr");
  size_t pos = 0;
  char order = '=';
  if (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=') order = descr[pos++];
  if (pos >= descr.size()) return unsupported("no type code");
  char kind = descr[pos++];
  if (std::string_view("fiub?").find(kind) == std::string_view::npos) return unsupported(DescribeKind(kind));
  std::string digits = descr.substr(pos);
  if (digits.empty() || digits.size() > 2 || digits.find_first_not_of("0123456789") != std::string::npos) {
    return unsupported("unrecognised size");
  }
  int size = std::stoi(digits);
  DataType dtype = DataType::kUndefined;
  if (kind == 'f') {
    dtype = size == 2 ? DataType::kFloat16 : size == 4 ? DataType::kFloat32 : size == 8 ? DataType::kFloat64
                                                                                        : DataType::kUndefined;
  } else if (kind == 'i') {
    dtype = size == 1 ? DataType::kInt8 : size == 2 ? DataType::kInt16 : size == 4 ? DataType::kInt32
            : size == 8 ? DataType::kInt64 : DataType::kUndefined;
  } else if (kind == 'u') {
    dtype = size == 1 ? DataType::kUint8 : size == 2 ? DataType::kUint16 : size == 4 ? DataType::kUint32
            : size == 8 ? DataType::kUint64 : DataType::kUndefined;
  } else {  // 'b' or '?'
    dtype = size == 1 ? DataType::kBool : DataType::kUndefined;
  }
  if (dtype == DataType::kUndefined) return unsupported("unsupported size " + digits);
  if (order == '>' && size > 1) {
    return NpyError(name, "big-endian data ('" + descr + "') is not supported; save it little-endian");
  }
  return dtype;
}

Result<Shape> ParseShapeValue(const PyValue& value, const std::string& name) {
  if (value.kind != PyValue::Kind::kTuple && value.kind != PyValue::Kind::kList) {
    return NpyError(name, "malformed header: 'shape' is not a tuple");
  }
  Shape shape;
  for (const PyValue& dim : value.items) {
    if (dim.kind != PyValue::Kind::kInt || dim.number < 0) {
      return NpyError(name, "malformed header: 'shape' must hold non-negative integers");
    }
    shape.push_back(dim.number);
  }
  return shape;
}

// Fills dtype and shape from the header dict text.
Status ParseHeaderDict(std::string_view text, const std::string& name, NpyHeader* header) {
  PyValue dict;
  PyParser parser(text);
  if (!parser.ParseAll(&dict)) return NpyError(name, "malformed header: " + parser.error());
  if (dict.kind != PyValue::Kind::kDict) return NpyError(name, "malformed header: not a dict");
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const PyValue& key = dict.items[i];
    const PyValue& value = dict.items[i + 1];
    if (key.kind != PyValue::Kind::kString) return NpyError(name, "malformed header: a key is not a string");
    if (key.text == "descr") {
      descr = &value;
    } else if (key.text == "fortran_order") {
      fortran = &value;
    } else if (key.text == "shape") {
      shape = &value;
    } else {
      return NpyError(name, "malformed header: unexpected key '" + key.text + "'");
    }
  }
  if (!descr || !fortran || !shape) {
    return NpyError(name, "malformed header: it needs the keys 'descr', 'fortran_order' and 'shape'");
  }
  if (descr->kind == PyValue::Kind::kList) {
    return NpyError(name, "unsupported dtype: structured arrays (a list of fields) are not supported");
  }
  if (descr->kind != PyValue::Kind::kString) return NpyError(name, "malformed header: 'descr' is not a string");
  if (fortran->kind != PyValue::Kind::kBool) {
    return NpyError(name, "malformed header: 'fortran_order' is not True or False");
  }
  EDGEAI_ASSIGN_OR_RETURN(header->dtype, ParseDescr(descr->text, name));
  EDGEAI_ASSIGN_OR_RETURN(header->shape, ParseShapeValue(*shape, name));
  // A Fortran-ordered array of rank <= 1 has the same bytes as a C-ordered one, and numpy writes such arrays
  // with fortran_order True when they came from a Fortran array.
  if (fortran->flag && header->shape.rank() > 1) {
    return NpyError(name, "Fortran-ordered arrays (fortran_order: True) are not supported; save in C order");
  }
  return Status::Ok();
}

// Number of bytes of the fixed preamble (magic, version, header length) for a version, 0 if unsupported.
size_t PreambleSize(unsigned major) { return major == 1 ? 10 : (major == 2 || major == 3) ? 12 : 0; }

// Parses the preamble and header from `prefix`, the first bytes of the file. When `prefix` is too short,
// `*needed` says how many bytes it must hold and no error is returned.
Status ParsePrefix(std::string_view prefix, const std::string& name, NpyHeader* header, size_t* needed) {
  *needed = 0;
  size_t magic_checked = std::min(prefix.size(), kMagicSize);
  if (std::memcmp(prefix.data(), kMagic, magic_checked) != 0) {
    return NpyError(name, "not a .npy file (bad magic; expected \\x93NUMPY)");
  }
  if (prefix.size() < 10) {
    *needed = 10;
    return Status::Ok();
  }
  unsigned major = static_cast<unsigned char>(prefix[6]);
  unsigned minor = static_cast<unsigned char>(prefix[7]);
  size_t preamble = PreambleSize(major);
  if (preamble == 0 || minor != 0) {
    return NpyError(name, "unsupported .npy format version " + std::to_string(major) + "." +
                              std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }
  if (prefix.size() < preamble) {
    *needed = preamble;
    return Status::Ok();
  }
  const auto* p = reinterpret_cast<const unsigned char*>(prefix.data());
  size_t header_len = major == 1 ? (size_t{p[8]} | size_t{p[9]} << 8)
                                 : (size_t{p[8]} | size_t{p[9]} << 8 | size_t{p[10]} << 16 | size_t{p[11]} << 24);
  if (prefix.size() < preamble + header_len) {
    *needed = preamble + header_len;
    return Status::Ok();
  }
  EDGEAI_RETURN_IF_ERROR(ParseHeaderDict(prefix.substr(preamble, header_len), name, header));
  header->data_offset = preamble + header_len;
  // Overflow-safe element count: the data size must also fit in memory.
  size_t element_size = DataTypeSize(header->dtype);
  size_t limit = std::numeric_limits<size_t>::max() / 2 / element_size;
  size_t count = 1;
  for (int64_t dim : header->shape) {
    size_t d = static_cast<size_t>(dim);
    if (d != 0 && count > limit / d) return NpyError(name, "shape " + header->shape.ToString() + " is too large");
    count *= d;
  }
  header->data_bytes = count * element_size;
  return Status::Ok();
}

Status CheckDataSize(const NpyHeader& header, size_t available, const std::string& name) {
  if (available == header.data_bytes) return Status::Ok();
  std::string what = available < header.data_bytes ? "truncated: " : "size mismatch: ";
  return NpyError(name, what + "shape " + header.shape.ToString() + " of " +
                            std::string(DataTypeName(header.dtype)) + " needs " +
                            std::to_string(header.data_bytes) + " bytes of data but the file has " +
                            std::to_string(available));
}

// numpy's bool is one byte that should be 0 or 1; any other value would be undefined behaviour as a C++ bool.
void NormalizeBools(Tensor* tensor) {
  if (tensor->dtype() != DataType::kBool) return;
  auto* bytes = static_cast<unsigned char*>(tensor->raw_data());
  for (size_t i = 0; i < tensor->ByteSize(); ++i) bytes[i] = bytes[i] != 0;
}

std::string ShapeTuple(const Shape& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.rank(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.rank() == 1) out += ",";
  return out + ")";
}

// Magic, version, header length and the padded header dict; empty when the dtype has no descr.
std::string BuildPreamble(const Tensor& tensor) {
  std::string descr = NpyDescr(tensor.dtype());
  if (descr.empty()) return "";
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + ShapeTuple(tensor.shape()) + ", }";
  unsigned major = dict.size() + 1 + 10 <= 65535 ? 1 : 2;
  size_t fixed = PreambleSize(major);
  size_t total = (fixed + dict.size() + 1 + kAlign - 1) / kAlign * kAlign;
  size_t header_len = total - fixed;
  if (major == 1 && header_len > 65535) {  // padding pushed it over: only v2 can say that length
    major = 2;
    fixed = PreambleSize(major);
    total = (fixed + dict.size() + 1 + kAlign - 1) / kAlign * kAlign;
    header_len = total - fixed;
  }
  dict.append(header_len - dict.size() - 1, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicSize);
  out += static_cast<char>(major);
  out += '\0';
  int length_bytes = major == 1 ? 2 : 4;
  for (int i = 0; i < length_bytes; ++i) out += static_cast<char>((header_len >> (8 * i)) & 0xff);
  return out + dict;
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::string NpyDescr(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32: return "<f4";
    case DataType::kFloat64: return "<f8";
    case DataType::kFloat16: return "<f2";
    case DataType::kInt8: return "|i1";
    case DataType::kInt16: return "<i2";
    case DataType::kInt32: return "<i4";
    case DataType::kInt64: return "<i8";
    case DataType::kUint8: return "|u1";
    case DataType::kUint16: return "<u2";
    case DataType::kUint32: return "<u4";
    case DataType::kUint64: return "<u8";
    case DataType::kBool: return "|b1";
    default: return "";
  }
}

Result<Tensor> ParseNpy(const std::string& bytes, const std::string& name_for_errors) {
  NpyHeader header;
  size_t needed = 0;
  EDGEAI_RETURN_IF_ERROR(ParsePrefix(bytes, name_for_errors, &header, &needed));
  if (needed > 0) {
    return NpyError(name_for_errors, "truncated header: the file has " + std::to_string(bytes.size()) +
                                         " bytes, the header needs " + std::to_string(needed));
  }
  EDGEAI_RETURN_IF_ERROR(CheckDataSize(header, bytes.size() - header.data_offset, name_for_errors));
  EDGEAI_ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(header.dtype, header.shape));
  if (header.data_bytes > 0) std::memcpy(tensor.raw_data(), bytes.data() + header.data_offset, header.data_bytes);
  NormalizeBools(&tensor);
  return tensor;
}

Result<Tensor> ReadNpy(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return NpyError(path, "is a directory, not a .npy file");
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return NotFound("cannot open .npy file '" + path + "': " + std::strerror(errno));
  uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot read the size of '" + path + "': " + ec.message());

  // Read only the header first, so the data goes straight into the tensor without a second copy.
  std::string prefix;
  NpyHeader header;
  size_t needed = 10;
  while (needed > 0) {
    size_t want = static_cast<size_t>(std::min<uintmax_t>(needed, file_size));
    if (want <= prefix.size()) {  // the file ends inside the header
      return NpyError(path, "truncated header: the file has " + std::to_string(file_size) +
                                " bytes, the header needs " + std::to_string(needed));
    }
    size_t have = prefix.size();
    prefix.resize(want);
    if (std::fread(&prefix[have], 1, want - have, file.get()) != want - have) {
      return NpyError(path, "read error: " + std::string(std::strerror(errno)));
    }
    EDGEAI_RETURN_IF_ERROR(ParsePrefix(prefix, path, &header, &needed));
  }
  EDGEAI_RETURN_IF_ERROR(CheckDataSize(header, static_cast<size_t>(file_size) - header.data_offset, path));
  EDGEAI_ASSIGN_OR_RETURN(Tensor tensor, Tensor::Allocate(header.dtype, header.shape));
  if (header.data_bytes > 0 &&
      std::fread(tensor.raw_data(), 1, header.data_bytes, file.get()) != header.data_bytes) {
    return NpyError(path, "read error: the file ended before its data did");
  }
  NormalizeBools(&tensor);
  return tensor;
}

std::string SerializeNpy(const Tensor& tensor) {
  std::string out = BuildPreamble(tensor);
  if (out.empty()) return out;
  out.append(static_cast<const char*>(tensor.raw_data()), tensor.ByteSize());
  return out;
}

Status WriteNpy(const std::string& path, const Tensor& tensor) {
  std::string preamble = BuildPreamble(tensor);
  if (preamble.empty()) {
    return InvalidArgument("cannot write '" + path + "': dtype " + std::string(DataTypeName(tensor.dtype())) +
                           " has no .npy equivalent");
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file) return InvalidArgument("cannot create '" + path + "': " + std::strerror(errno));
  bool ok = std::fwrite(preamble.data(), 1, preamble.size(), file.get()) == preamble.size();
  if (ok && tensor.ByteSize() > 0) {
    ok = std::fwrite(tensor.raw_data(), 1, tensor.ByteSize(), file.get()) == tensor.ByteSize();
  }
  if (!ok || std::fclose(file.release()) != 0) {
    return InvalidArgument("cannot write '" + path + "': " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace edgeai::tools
