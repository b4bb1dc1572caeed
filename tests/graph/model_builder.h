// Builds small ONNX models in tests, so that each importer and executor error can be provoked precisely.
#pragma once

#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace edgeai::testing {

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13) {
    model_.set_ir_version(8);
    model_.set_producer_name("edgeai-tests");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
  }

  // dims: -1 makes a symbolic dim named `symbol`.
  ModelBuilder& Input(const std::string& name, int elem_type, const std::vector<int64_t>& dims,
                      const std::string& symbol = "batch") {
    FillValueInfo(model_.mutable_graph()->add_input(), name, elem_type, dims, symbol);
    return *this;
  }
  ModelBuilder& Output(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    FillValueInfo(model_.mutable_graph()->add_output(), name, elem_type, dims, "batch");
    return *this;
  }
  ModelBuilder& ValueInfo(const std::string& name, int elem_type, const std::vector<int64_t>& dims) {
    FillValueInfo(model_.mutable_graph()->add_value_info(), name, elem_type, dims, "batch");
    return *this;
  }
  onnx::NodeProto& Node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* node = model_.mutable_graph()->add_node();
    node->set_op_type(op);
    node->set_name(name.empty() ? op + std::to_string(model_.graph().node_size()) : name);
    for (const auto& i : inputs) node->add_input(i);
    for (const auto& o : outputs) node->add_output(o);
    return *node;
  }
  onnx::TensorProto& FloatInitializer(const std::string& name, const std::vector<int64_t>& dims,
                                      const std::vector<float>& values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    for (float v : values) t->add_float_data(v);
    return *t;
  }
  onnx::ModelProto& proto() { return model_; }
  std::string Bytes() const { return model_.SerializeAsString(); }

 private:
  static void FillValueInfo(onnx::ValueInfoProto* info, const std::string& name, int elem_type,
                            const std::vector<int64_t>& dims, const std::string& symbol) {
    info->set_name(name);
    auto* tensor = info->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(elem_type);
    auto* shape = tensor->mutable_shape();
    for (int64_t d : dims) {
      auto* dim = shape->add_dim();
      if (d >= 0) {
        dim->set_dim_value(d);
      } else {
        dim->set_dim_param(symbol);
      }
    }
  }

  onnx::ModelProto model_;
};

}  // namespace edgeai::testing
