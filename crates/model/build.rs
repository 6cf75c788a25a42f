//! Compiles ONNX's protobuf schema (`proto/onnx-ml.proto`, the ONNX
//! project's own file, Apache-2.0) into Rust types with prost. protox
//! parses it in pure Rust, so building needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/onnx-ml.proto");
    let descriptors = protox::compile(["onnx-ml.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
