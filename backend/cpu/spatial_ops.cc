// Spatial rearrangement and detection ops: DepthToSpace and SpaceToDepth (one strided copy each) and
// NonMaxSuppression. GridSample and RoiAlign, the bilinear samplers, live in spatial_sampling.cc.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "backend/cpu/cpu_ops.h"
#include "backend/cpu/data_movement.h"
#include "backend/cpu/dispatch.h"

namespace edgeai::cpu {
namespace {

// ------------------------------------------------------------------------------- DepthToSpace / SpaceToDepth

Status ParseBlockSize(const InferenceContext& ctx, int64_t* block) {
  const Attribute* a = ctx.attrs().Find("blocksize");
  if (a == nullptr || a->kind != Attribute::Kind::kInt) return ctx.Error("needs the blocksize attribute");
  if (a->i <= 0) return ctx.Error("blocksize must be positive, got " + std::to_string(a->i));
  *block = a->i;
  return Status::Ok();
}

// DepthToSpace's channel order: DCR (depth, column, row; the only one before opset 11) or CRD.
Status ParseCrd(const InferenceContext& ctx, bool* crd) {
  *crd = false;
  if (ctx.op_type() != "DepthToSpace" || ctx.opset() < 11) return Status::Ok();
  const Attribute* a = ctx.attrs().Find("mode");
  std::string_view mode = a != nullptr && a->kind == Attribute::Kind::kString ? std::string_view(a->s) : "DCR";
  if (mode == "CRD") {
    *crd = true;
  } else if (mode != "DCR") {
    return ctx.Error("unsupported mode '" + std::string(mode) + "' (expected DCR or CRD)");
  }
  return Status::Ok();
}

Status InferBlockRearrange(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  int64_t b = 0;
  bool crd = false;
  EDGEAI_RETURN_IF_ERROR(ParseBlockSize(ctx, &b));
  EDGEAI_RETURN_IF_ERROR(ParseCrd(ctx, &crd));
  const ValueType& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.output(0) = ValueType::Of(x.dtype, Shape{-1, -1, -1, -1});
    return Status::Ok();
  }
  if (x.dims.rank() != 4) return ctx.Error("input must be 4-D (N, C, H, W), got " + x.ToString());
  Shape out = x.dims;
  if (ctx.op_type() == "DepthToSpace") {
    if (x.dims[1] >= 0 && x.dims[1] % (b * b) != 0) {
      return ctx.Error("channels " + std::to_string(x.dims[1]) +
                       " are not a multiple of blocksize^2 = " + std::to_string(b * b));
    }
    out[1] = x.dims[1] < 0 ? -1 : x.dims[1] / (b * b);
    out[2] = x.dims[2] < 0 ? -1 : x.dims[2] * b;
    out[3] = x.dims[3] < 0 ? -1 : x.dims[3] * b;
  } else {
    for (size_t d = 2; d < 4; ++d) {
      if (x.dims[d] >= 0 && x.dims[d] % b != 0) {
        return ctx.Error("spatial dim " + std::to_string(x.dims[d]) + " is not a multiple of blocksize " +
                         std::to_string(b));
      }
      out[d] = x.dims[d] < 0 ? -1 : x.dims[d] / b;
    }
    out[1] = x.dims[1] < 0 ? -1 : x.dims[1] * b * b;
  }
  ctx.output(0) = ValueType::Of(x.dtype, out);
  return Status::Ok();
}

// Both ops are one 6-D strided copy: the output, viewed in 6 dims, reads the input at computed strides.
class BlockRearrangeKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    depth_to_space_ = ctx.op_type() == "DepthToSpace";
    EDGEAI_RETURN_IF_ERROR(ParseBlockSize(ctx, &block_));
    return ParseCrd(ctx, &crd_);
  }
  Status Compute(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0));
    const Shape& s = x.shape();
    int64_t b = block_, n = s[0], c = s[1], h = s[2], w = s[3];
    int64_t hw = h * w, chw = c * hw;
    Shape dims, strides;
    if (depth_to_space_) {
      int64_t cp = c / (b * b);
      // Output (n, c', h, b1, w, b2) reads channel (b1*b + b2)*c' + c' (DCR) or c'*b*b + b1*b + b2 (CRD).
      dims = Shape{n, cp, h, b, w, b};
      strides = crd_ ? Shape{chw, b * b * hw, w, b * hw, 1, hw} : Shape{chw, hw, w, b * cp * hw, 1, cp * hw};
    } else {
      // Output channel (b1*b + b2)*c + c at (h', w') reads input (c, h'*b + b1, w'*b + b2).
      dims = Shape{n, b, b, c, h / b, w / b};
      strides = Shape{chw, w, 1, hw, b * w, b};
    }
    if (y->NumElements() == 0) return Status::Ok();
    StridedCopy(ctx.pool(), DataTypeSize(x.dtype()), dims, strides, x.raw_data(), y->raw_data());
    return Status::Ok();
  }

 private:
  bool depth_to_space_ = true;
  bool crd_ = false;
  int64_t block_ = 1;
};

// ----------------------------------------------------------------------------------------- NonMaxSuppression

bool IsFloatType(DataType t) { return t == DataType::kFloat32 || t == DataType::kFloat64; }

Status InferNonMaxSuppression(InferenceContext& ctx) {
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(0));
  EDGEAI_RETURN_IF_ERROR(ctx.RequireInput(1));
  int64_t center = ctx.attrs().GetInt("center_point_box", 0);
  if (center != 0 && center != 1) return ctx.Error("center_point_box must be 0 or 1, got " + std::to_string(center));
  const ValueType& boxes = ctx.input(0);
  const ValueType& scores = ctx.input(1);
  if (scores.dtype != boxes.dtype)
    return ctx.Error("scores " + scores.ToString() + " must match boxes " + boxes.ToString());
  if (ctx.has_input(2) && ctx.input(2).dtype != DataType::kInt64 && ctx.input(2).dtype != DataType::kInt32) {
    return ctx.Error("max_output_boxes_per_class must be int64, got " + ctx.input(2).ToString());
  }
  for (size_t i = 3; i < 5; ++i) {
    if (ctx.has_input(i) && !IsFloatType(ctx.input(i).dtype)) {
      return ctx.Error(std::string(i == 3 ? "iou_threshold" : "score_threshold") + " must be float, got " +
                       ctx.input(i).ToString());
    }
  }
  if (boxes.rank_known && (boxes.dims.rank() != 3 || (boxes.dims[2] >= 0 && boxes.dims[2] != 4))) {
    return ctx.Error("boxes must be [num_batches, spatial_dimension, 4], got " + boxes.ToString());
  }
  if (scores.rank_known && scores.dims.rank() != 3) {
    return ctx.Error("scores must be [num_batches, num_classes, spatial_dimension], got " + scores.ToString());
  }
  if (boxes.rank_known && scores.rank_known) {
    auto differ = [](int64_t a, int64_t b) { return a >= 0 && b >= 0 && a != b; };
    if (differ(boxes.dims[0], scores.dims[0]) || differ(boxes.dims[1], scores.dims[2])) {
      return ctx.Error("boxes " + boxes.ToString() + " and scores " + scores.ToString() +
                       " disagree on batches or boxes");
    }
  }
  // The number of selected boxes depends on the data; the kernel sizes the output itself.
  ctx.output(0) = ValueType::Of(DataType::kInt64, Shape{-1, 3});
  return Status::Ok();
}

struct Candidate {
  double score;
  int64_t index;
};

template <typename T>
struct Corners {
  T y1, x1, y2, x2;
};

template <typename T>
Corners<T> BoxCorners(const T* b, bool center) {
  if (center) {
    T hw = b[2] / 2, hh = b[3] / 2;
    return {b[1] - hh, b[0] - hw, b[1] + hh, b[0] + hw};
  }
  // Any diagonal pair of corners.
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

// Whether box b is suppressed by the already selected box a (IoU above the threshold; degenerate boxes never
// suppress).
template <typename T>
bool Overlaps(const Corners<T>& a, const Corners<T>& b, double threshold) {
  T area_a = (a.y2 - a.y1) * (a.x2 - a.x1);
  T area_b = (b.y2 - b.y1) * (b.x2 - b.x1);
  if (area_a <= 0 || area_b <= 0) return false;
  T ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  T iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (ih <= 0 || iw <= 0) return false;
  T inter = ih * iw;
  T uni = area_a + area_b - inter;
  if (uni <= 0) return false;
  return static_cast<double>(inter / uni) > threshold;
}

double ScalarAsDouble(const Tensor& t) {
  switch (t.dtype()) {
    case DataType::kFloat32:
      return t.data<float>()[0];
    case DataType::kFloat64:
      return t.data<double>()[0];
    case DataType::kInt64:
      return static_cast<double>(t.data<int64_t>()[0]);
    case DataType::kInt32:
      return t.data<int32_t>()[0];
    default:
      return 0;
  }
}

class NonMaxSuppressionKernel : public Kernel {
 public:
  Status Init(const InferenceContext& ctx) {
    center_ = ctx.attrs().GetInt("center_point_box", 0) != 0;
    return Status::Ok();
  }

  Status Compute(KernelContext& ctx) const override {
    const Tensor& boxes = *ctx.input(0);
    const Tensor& scores = *ctx.input(1);
    if (boxes.rank() != 3 || boxes.shape()[2] != 4 || scores.rank() != 3 || boxes.shape()[0] != scores.shape()[0] ||
        boxes.shape()[1] != scores.shape()[2]) {
      return ctx.Error("boxes " + boxes.Describe() + " and scores " + scores.Describe() + " do not match");
    }
    const Tensor* max_t = ctx.input(2);
    const Tensor* iou_t = ctx.input(3);
    const Tensor* score_t = ctx.input(4);
    int64_t max_out = max_t != nullptr && max_t->NumElements() > 0 ? static_cast<int64_t>(ScalarAsDouble(*max_t)) : 0;
    double iou = iou_t != nullptr && iou_t->NumElements() > 0 ? ScalarAsDouble(*iou_t) : 0.0;
    if (iou < 0 || iou > 1) return ctx.Error("iou_threshold must be in [0, 1], got " + std::to_string(iou));
    bool has_score = score_t != nullptr && score_t->NumElements() > 0;
    double score_threshold = has_score ? ScalarAsDouble(*score_t) : 0.0;
    // Only grows, so that warm runs do not allocate.
    thread_local std::vector<int64_t> selected;
    selected.clear();
    if (max_out > 0) {
      EDGEAI_RETURN_IF_ERROR(VisitFloat(boxes.dtype(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        Select<T>(boxes, scores, max_out, iou, has_score, score_threshold, &selected);
        return Status::Ok();
      }));
    }
    int64_t count = static_cast<int64_t>(selected.size() / 3);
    EDGEAI_ASSIGN_OR_RETURN(Tensor * y, ctx.Output(0, Shape{count, 3}));
    if (count > 0) std::memcpy(y->raw_data(), selected.data(), selected.size() * sizeof(int64_t));
    return Status::Ok();
  }

 private:
  // Greedy selection per batch and class, highest score first (ties: lower index first); appends
  // (batch, class, box) triples.
  template <typename T>
  void Select(const Tensor& boxes, const Tensor& scores, int64_t max_out, double iou, bool has_score,
              double score_threshold, std::vector<int64_t>* out) const {
    int64_t batches = scores.shape()[0], classes = scores.shape()[1], n = scores.shape()[2];
    thread_local std::vector<Candidate> candidates;
    thread_local std::vector<int64_t> kept;
    for (int64_t b = 0; b < batches; ++b) {
      const T* bx = boxes.data<T>() + b * n * 4;
      for (int64_t c = 0; c < classes; ++c) {
        const T* sc = scores.data<T>() + (b * classes + c) * n;
        candidates.clear();
        for (int64_t i = 0; i < n; ++i) {
          if (!has_score || static_cast<double>(sc[i]) > score_threshold) candidates.push_back({double(sc[i]), i});
        }
        std::sort(candidates.begin(), candidates.end(), [](const Candidate& l, const Candidate& r) {
          return l.score > r.score || (l.score == r.score && l.index < r.index);
        });
        kept.clear();
        for (const Candidate& cand : candidates) {
          if (static_cast<int64_t>(kept.size()) >= max_out) break;
          Corners<T> box = BoxCorners(bx + cand.index * 4, center_);
          bool suppressed = false;
          for (int64_t k : kept) {
            if (Overlaps(BoxCorners(bx + k * 4, center_), box, iou)) {
              suppressed = true;
              break;
            }
          }
          if (suppressed) continue;
          kept.push_back(cand.index);
          out->insert(out->end(), {b, c, cand.index});
        }
      }
    }
  }

  bool center_ = false;
};

}  // namespace

Status RegisterSpatialOps(OpRegistry& registry) {
  const std::vector<DataType>& all = AllFixedSizeTypes();
  const int d2s_versions[][2] = {{1, 10}, {11, 12}, {13, kMaxOpset}};
  for (const auto& v : d2s_versions) {
    EDGEAI_RETURN_IF_ERROR(
        AddOp(registry, "DepthToSpace", v[0], v[1], all, InferBlockRearrange, MakeKernel<BlockRearrangeKernel>));
  }
  const int s2d_versions[][2] = {{1, 12}, {13, kMaxOpset}};
  for (const auto& v : s2d_versions) {
    EDGEAI_RETURN_IF_ERROR(
        AddOp(registry, "SpaceToDepth", v[0], v[1], all, InferBlockRearrange, MakeKernel<BlockRearrangeKernel>));
  }
  const std::vector<DataType> floats = {DataType::kFloat32, DataType::kFloat64};
  const int nms_versions[][2] = {{10, 10}, {11, kMaxOpset}};
  for (const auto& v : nms_versions) {
    EDGEAI_RETURN_IF_ERROR(AddOp(registry, "NonMaxSuppression", v[0], v[1], floats, InferNonMaxSuppression,
                                 MakeKernel<NonMaxSuppressionKernel>));
  }
  return Status::Ok();
}

}  // namespace edgeai::cpu
