// DFT, STFT, the window generators and MelWeightMatrix (signal_ops.cc). Transforms are checked against a
// direct O(n^2) sum computed here in double precision; windows and mel weights against numpy.
#include <catch2/catch.hpp>
#include <cmath>
#include <complex>

#include "tests/backend/cpu/op_test_util.h"

using namespace edgeai;
using namespace edgeai::test;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Naive DFT of x (complex) of length n, zero-padded or truncated.
std::vector<std::complex<double>> NaiveDft(const std::vector<std::complex<double>>& x, int64_t n, bool inverse) {
  std::vector<std::complex<double>> y(static_cast<size_t>(n));
  const double sign = inverse ? 1.0 : -1.0;
  for (int64_t k = 0; k < n; ++k) {
    std::complex<double> sum(0, 0);
    for (int64_t j = 0; j < n && j < static_cast<int64_t>(x.size()); ++j) {
      sum += x[j] * std::polar(1.0, sign * 2.0 * kPi * static_cast<double>((j * k) % n) / static_cast<double>(n));
    }
    y[k] = inverse ? sum / static_cast<double>(n) : sum;
  }
  return y;
}

// A deterministic test signal.
std::vector<float> Wave(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(std::sin(0.3 * i) + 0.5 * std::cos(1.7 * i) + 0.01 * i);
  return v;
}

// Checks y ([..., 2] interleaved) against `want`, within tol * (1 + |want|).
void CheckComplex(const Tensor& y, const std::vector<std::complex<double>>& want, double tol) {
  REQUIRE(y.NumElements() == static_cast<int64_t>(2 * want.size()));
  const float* p = y.data<float>();
  for (size_t k = 0; k < want.size(); ++k) {
    INFO("bin " << k);
    CHECK(std::abs(p[2 * k] - want[k].real()) <= tol * (1 + std::abs(want[k])));
    CHECK(std::abs(p[2 * k + 1] - want[k].imag()) <= tol * (1 + std::abs(want[k])));
  }
}

void CheckDftLength(int64_t n) {
  INFO("length " << n);
  std::vector<float> x = Wave(n);
  std::vector<std::complex<double>> cx(x.begin(), x.end());
  Tensor y = OpCall("DFT", 17).Run1({F32(Shape{1, n, 1}, x)});
  CHECK(y.shape() == Shape{1, n, 2});
  CheckComplex(y, NaiveDft(cx, n, false), 1e-4);
}

}  // namespace

TEST_CASE("DFT matches the direct sum for every kind of length", "[cpu][signal]") {
  // Power of two (radix-2), short odd (direct), long non-power-of-two (Bluestein).
  for (int64_t n : {1, 2, 8, 64, 5, 12, 63, 100, 400, 1000}) CheckDftLength(n);
}

TEST_CASE("DFT attributes: axis, onesided, inverse, dft_length", "[cpu][signal]") {
  // [batch 1][3][4][1]: a transform along axis 2 runs over each of the 3 rows.
  std::vector<float> x = Wave(12);
  Tensor rows = OpCall("DFT", 17).Attr("axis", IntAttr(2)).Run1({F32(Shape{1, 3, 4, 1}, x)});
  REQUIRE(rows.shape() == Shape{1, 3, 4, 2});
  for (int r = 0; r < 3; ++r) {
    std::vector<std::complex<double>> row(x.begin() + 4 * r, x.begin() + 4 * r + 4);
    Tensor slice = Tensor::View(DataType::kFloat32, Shape{4, 2}, rows.data<float>() + 8 * r);
    CheckComplex(slice, NaiveDft(row, 4, false), 1e-5);
  }
  // Along axis 1 (strided), onesided: bins 0..n/2.
  Tensor cols =
      OpCall("DFT", 17).Attr("axis", IntAttr(1)).Attr("onesided", IntAttr(1)).Run1({F32(Shape{1, 3, 4, 1}, x)});
  REQUIRE(cols.shape() == Shape{1, 2, 4, 2});
  std::vector<std::complex<double>> col = {x[1], x[5], x[9]};
  std::vector<std::complex<double>> want = NaiveDft(col, 3, false);
  CHECK(std::abs(cols.data<float>()[2 * (4 + 1)] - want[1].real()) < 1e-5);  // bin 1 of column 1
  CHECK(std::abs(cols.data<float>()[2 * (4 + 1) + 1] - want[1].imag()) < 1e-5);

  // dft_length pads with zeros or truncates.
  std::vector<std::complex<double>> sig(x.begin(), x.begin() + 6);
  Tensor padded = OpCall("DFT", 17).Run1({F32(Shape{1, 6, 1}, Wave(6)), I64s({10})});
  CheckComplex(padded, NaiveDft(sig, 10, false), 1e-5);
  Tensor cut = OpCall("DFT", 17).Run1({F32(Shape{1, 6, 1}, Wave(6)), Tensor::Scalar<int32_t>(4)});
  CheckComplex(cut, NaiveDft(std::vector<std::complex<double>>(sig.begin(), sig.begin() + 4), 4, false), 1e-5);

  // The inverse of the forward transform is the signal again (complex in, complex out), float64 too.
  std::vector<double> fwd(14);
  for (int i = 0; i < 14; ++i) fwd[i] = std::cos(0.7 * i) + i;
  Tensor spectrum = OpCall("DFT", 17).Run1({Tensor::FromVector<double>(Shape{1, 7, 2}, fwd)});
  Tensor back = OpCall("DFT", 17).Attr("inverse", IntAttr(1)).Run1({spectrum});
  for (int i = 0; i < 14; ++i) CHECK(std::abs(back.data<double>()[i] - fwd[i]) < 1e-12);

  // Opset 20 takes the axis as an input, default -2 (the last signal dim).
  Tensor last = OpCall("DFT", 20).Run1({F32(Shape{1, 3, 4, 1}, x)});
  CHECK(Values<float>(last) == Values<float>(rows));
  Tensor given = OpCall("DFT", 20).Run1({F32(Shape{1, 3, 4, 1}, x), Tensor(), Tensor::Scalar<int64_t>(2)});
  CHECK(Values<float>(given) == Values<float>(rows));
}

TEST_CASE("DFT rejects bad shapes and attributes", "[cpu][signal]") {
  Tensor x = F32(Shape{1, 4, 1}, {1, 2, 3, 4});
  auto bad_axis = OpCall("DFT", 17).Attr("axis", IntAttr(2)).Run({x});
  CHECK(bad_axis.status().code() == StatusCode::kInvalidArgument);
  CHECK(Contains(bad_axis.status(), "DFT node 'test'"));
  CHECK(Contains(bad_axis.status(), "axis 2"));
  CHECK_FALSE(OpCall("DFT", 17).Run({F32(Shape{1, 2, 3}, {1, 2, 3, 4, 5, 6})}).ok());  // last dim not 1 or 2
  CHECK_FALSE(OpCall("DFT", 17).Run({F32(Shape{4}, {1, 2, 3, 4})}).ok());
  CHECK_FALSE(OpCall("DFT", 17).Run({x, I64s({0})}).ok());
  CHECK_FALSE(OpCall("DFT", 17).Attr("onesided", IntAttr(1)).Run({F32(Shape{1, 2, 2}, {1, 2, 3, 4})}).ok());
}

TEST_CASE("STFT frames, windows and transforms the signal", "[cpu][signal]") {
  const int64_t length = 40, step = 6, n = 10;
  std::vector<float> s = Wave(length);
  std::vector<float> window(n);
  for (int64_t j = 0; j < n; ++j) window[j] = static_cast<float>(0.5 - 0.5 * std::cos(2 * kPi * j / n));
  Tensor y = OpCall("STFT", 17).Run1({F32(Shape{1, length, 1}, s), I64s({step}), F32(Shape{n}, window)});
  const int64_t frames = (length - n) / step + 1;
  REQUIRE(y.shape() == Shape{1, frames, n / 2 + 1, 2});
  for (int64_t f = 0; f < frames; ++f) {
    std::vector<std::complex<double>> frame(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) frame[j] = static_cast<double>(s[f * step + j]) * window[j];
    std::vector<std::complex<double>> want = NaiveDft(frame, n, false);
    want.resize(n / 2 + 1);
    Tensor row = Tensor::View(DataType::kFloat32, Shape{n / 2 + 1, 2}, y.data<float>() + f * (n / 2 + 1) * 2);
    CheckComplex(row, want, 1e-5);
  }
  // No window: frame_length alone; two-sided output.
  Tensor plain =
      OpCall("STFT", 17)
          .Attr("onesided", IntAttr(0))
          .Run1({F32(Shape{1, length, 1}, s), Tensor::Scalar<int64_t>(step), Tensor(), Tensor::Scalar<int64_t>(8)});
  REQUIRE(plain.shape() == Shape{1, (length - 8) / step + 1, 8, 2});
  std::vector<std::complex<double>> first(s.begin(), s.begin() + 8);
  CheckComplex(Tensor::View(DataType::kFloat32, Shape{8, 2}, plain.data<float>()), NaiveDft(first, 8, false), 1e-5);

  // Errors: neither window nor frame_length, a window of another length, a frame longer than the signal.
  Tensor sig = F32(Shape{1, length, 1}, s);
  auto none = OpCall("STFT", 17).Run({sig, I64s({step})});
  CHECK(Contains(none.status(), "STFT node 'test'"));
  CHECK_FALSE(OpCall("STFT", 17).Run({sig, I64s({step}), F32(Shape{n}, window), I64s({8})}).ok());
  CHECK_FALSE(OpCall("STFT", 17).Run({sig, I64s({step}), Tensor(), I64s({41})}).ok());
  CHECK_FALSE(OpCall("STFT", 17).Run({sig, I64s({0}), Tensor(), I64s({8})}).ok());
  CHECK_FALSE(OpCall("STFT", 17)
                  .Run({F32(Shape{1, 4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), I64s({1}), Tensor(), I64s({2})})
                  .ok());  // complex signal, onesided by default
}

TEST_CASE("Window generators: Hann, Hamming, Blackman", "[cpu][signal]") {
  const int32_t size = 10;
  for (int periodic : {0, 1}) {
    const double period = periodic ? size : size - 1;
    std::vector<double> hann, hamming, blackman;
    for (int k = 0; k < size; ++k) {
      const double a = 2 * kPi * k / period;
      hann.push_back(0.5 - 0.5 * std::cos(a));
      hamming.push_back(25.0 / 46 - 21.0 / 46 * std::cos(a));
      blackman.push_back(0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2 * a));
    }
    INFO("periodic " << periodic);
    Tensor arg = Tensor::Scalar<int32_t>(size);
    Tensor h = OpCall("HannWindow", 17).Attr("periodic", IntAttr(periodic)).Run1({arg});
    Tensor m = OpCall("HammingWindow", 17).Attr("periodic", IntAttr(periodic)).Run1({arg});
    Tensor b = OpCall("BlackmanWindow", 17)
                   .Attr("periodic", IntAttr(periodic))
                   .Attr("output_datatype", IntAttr(11))
                   .Run1({Tensor::Scalar<int64_t>(size)});
    REQUIRE(h.shape() == Shape{size});
    REQUIRE(b.dtype() == DataType::kFloat64);
    for (int k = 0; k < size; ++k) {
      CHECK(std::abs(h.data<float>()[k] - hann[k]) < 1e-6);
      CHECK(std::abs(m.data<float>()[k] - hamming[k]) < 1e-6);
      CHECK(std::abs(b.data<double>()[k] - blackman[k]) < 1e-12);
    }
  }
  // Integer output truncates; an empty window is fine.
  Tensor ints = OpCall("HannWindow", 17).Attr("output_datatype", IntAttr(7)).Run1({Tensor::Scalar<int64_t>(4)});
  CHECK(Values<int64_t>(ints) == std::vector<int64_t>{0, 0, 1, 0});
  CHECK(OpCall("HannWindow", 17).Run1({Tensor::Scalar<int64_t>(0)}).shape() == Shape{0});

  auto negative = OpCall("HannWindow", 17).Run({Tensor::Scalar<int64_t>(-1)});
  CHECK(Contains(negative.status(), "HannWindow node 'test'"));
  CHECK_FALSE(OpCall("HammingWindow", 17).Attr("output_datatype", IntAttr(8)).Run({Tensor::Scalar<int64_t>(3)}).ok());
  CHECK_FALSE(OpCall("BlackmanWindow", 17).Run({I64s({3, 4})}).ok());
}

TEST_CASE("MelWeightMatrix builds triangular filters", "[cpu][signal]") {
  Tensor y = OpCall("MelWeightMatrix", 17)
                 .Run1({Tensor::Scalar<int32_t>(4), Tensor::Scalar<int32_t>(32), Tensor::Scalar<int32_t>(16000),
                        Tensor::Scalar<float>(100), Tensor::Scalar<float>(8000)});
  REQUIRE(y.shape() == Shape{17, 4});
  std::vector<float> want(17 * 4, 0.0f);
  // numpy reference: band edges at bins [0, 1, 2, 3, 6, 10].
  const std::vector<std::pair<int, float>> entries = {
      {1 * 4 + 0, 1.0f},     {2 * 4 + 1, 1.0f},     {3 * 4 + 2, 1.0f},     {4 * 4 + 2, 2 / 3.0f},
      {4 * 4 + 3, 1 / 3.0f}, {5 * 4 + 2, 1 / 3.0f}, {5 * 4 + 3, 2 / 3.0f}, {6 * 4 + 3, 1.0f},
      {7 * 4 + 3, 0.75f},    {8 * 4 + 3, 0.5f},     {9 * 4 + 3, 0.25f}};
  for (const auto& e : entries) want[e.first] = e.second;
  for (size_t i = 0; i < want.size(); ++i) CHECK(std::abs(y.data<float>()[i] - want[i]) < 1e-6);

  auto bad = OpCall("MelWeightMatrix", 17)
                 .Run({Tensor::Scalar<int32_t>(0), Tensor::Scalar<int32_t>(32), Tensor::Scalar<int32_t>(16000),
                       Tensor::Scalar<float>(100), Tensor::Scalar<float>(8000)});
  CHECK(Contains(bad.status(), "MelWeightMatrix node 'test'"));
}
