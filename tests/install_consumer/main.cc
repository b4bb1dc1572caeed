// Loads a model through the installed public API only and runs it on zeros.
#include <edgeai/edgeai.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer MODEL.onnx\n";
    return 2;
  }
  edgeai::EdgeAIEngine engine(edgeai::EngineOptions{1});
  edgeai::Status loaded = engine.LoadModel(argv[1]);
  if (!loaded.ok()) {
    std::cerr << loaded.ToString() << "\n";
    return 1;
  }
  edgeai::NamedTensors inputs;
  for (const edgeai::TensorInfo& info : engine.inputs()) {
    edgeai::Shape shape;
    for (const edgeai::Dim& d : info.dims) shape.push_back(d.value < 0 ? 1 : d.value);
    inputs[info.name] = edgeai::Tensor::Allocate(info.dtype, shape).value();
  }
  edgeai::Result<edgeai::NamedTensors> out = engine.Run(inputs);
  if (!out.ok()) {
    std::cerr << out.status().ToString() << "\n";
    return 1;
  }
  for (const auto& [name, tensor] : *out) std::cout << name << " " << tensor.Describe() << "\n";
  return 0;
}
