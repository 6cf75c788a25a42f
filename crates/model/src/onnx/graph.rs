//! Building an ONNX graph: named values, constants (initializers), nodes
//! with their attributes, and the model around them. Every value a node
//! makes gets a fresh name, so the parts (features, estimator, outputs) can
//! be written independently.

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_proto::DataType, tensor_shape_proto, type_proto,
};

/// The ONNX IR version written (ONNX 1.16+, ONNX Runtime 1.20+).
pub const IR_VERSION: i64 = 10;
/// The default domain's opset.
pub const OPSET: i64 = 21;
/// The `ai.onnx.ml` opset (5: `TreeEnsemble` in double precision).
pub const ML_OPSET: i64 = 5;
/// The `ai.onnx.ml` domain.
pub const ML: &str = "ai.onnx.ml";

/// An element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// 64-bit float (numbers, scores, probabilities).
    Double,
    /// UTF-8 text (categories, class labels).
    Text,
    /// 64-bit integer (indices).
    Int,
}

impl Elem {
    fn code(self) -> i32 {
        match self {
            Elem::Double => DataType::Double as i32,
            Elem::Text => DataType::String as i32,
            Elem::Int => DataType::Int64 as i32,
        }
    }
}

/// A graph under construction.
#[derive(Debug, Default)]
pub struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    names: usize,
}

/// An attribute value.
#[derive(Debug, Clone)]
// Built once per node attribute and moved into the node: boxing the tensor
// would save nothing.
#[allow(clippy::large_enum_variant)]
pub enum Attr {
    /// An integer.
    Int(i64),
    /// Integers.
    Ints(Vec<i64>),
    /// Text.
    Text(String),
    /// Texts.
    Texts(Vec<String>),
    /// A tensor (built with [`tensor_f64`], [`tensor_u8`]).
    Tensor(TensorProto),
}

impl Graph {
    /// A fresh value name starting with `hint`.
    pub fn name(&mut self, hint: &str) -> String {
        self.names += 1;
        format!("{hint}_{}", self.names)
    }

    /// Declares a graph input `name` of `elem` with shape `[N, width]`.
    pub fn input(&mut self, name: &str, elem: Elem, width: i64) {
        self.inputs
            .push(value_info(name, elem, &[None, Some(width)]));
    }

    /// Declares `name` a graph output of `elem`, shape `[N]` or `[N, width]`.
    pub fn output(&mut self, name: &str, elem: Elem, width: Option<i64>) {
        let dims: Vec<Option<i64>> = match width {
            Some(w) => vec![None, Some(w)],
            None => vec![None],
        };
        self.outputs.push(value_info(name, elem, &dims));
    }

    /// A constant of doubles with shape `dims`; its name.
    pub fn doubles(&mut self, hint: &str, dims: &[i64], values: Vec<f64>) -> String {
        let name = self.name(hint);
        let mut tensor = tensor_f64(values, dims);
        tensor.name = Some(name.clone());
        self.initializers.push(tensor);
        name
    }

    /// A constant of 64-bit integers with shape `dims`; its name.
    pub fn ints(&mut self, hint: &str, dims: &[i64], values: Vec<i64>) -> String {
        let name = self.name(hint);
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            dims: dims.to_vec(),
            data_type: Some(Elem::Int.code()),
            int64_data: values,
            ..TensorProto::default()
        });
        name
    }

    /// A constant of texts with shape `dims`; its name.
    pub fn texts(&mut self, hint: &str, dims: &[i64], values: &[String]) -> String {
        let name = self.name(hint);
        self.initializers.push(TensorProto {
            name: Some(name.clone()),
            dims: dims.to_vec(),
            data_type: Some(Elem::Text.code()),
            string_data: values.iter().map(|v| v.as_bytes().to_vec()).collect(),
            ..TensorProto::default()
        });
        name
    }

    /// Adds a node of the default domain; the name of its one output.
    pub fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        self.node("", op, inputs, attrs)
    }

    /// Adds a node of the default domain with two outputs (`TopK`); their
    /// names.
    pub fn op2(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> (String, String) {
        let first = self.name(&op.to_lowercase());
        let second = self.name(&op.to_lowercase());
        self.push(vec![first.clone(), second.clone()], "", op, inputs, attrs);
        (first, second)
    }

    /// Adds an `ai.onnx.ml` node; the name of its one output.
    pub fn ml(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        self.node(ML, op, inputs, attrs)
    }

    /// Adds a node whose one output gets the name `output`.
    pub fn named(&mut self, output: &str, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) {
        self.push(vec![output.to_string()], "", op, inputs, attrs);
    }

    fn node(
        &mut self,
        domain: &str,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) -> String {
        let output = self.name(&op.to_lowercase());
        self.push(vec![output.clone()], domain, op, inputs, attrs);
        output
    }

    fn push(
        &mut self,
        outputs: Vec<String>,
        domain: &str,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) {
        let name = self.name(op);
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs,
            name: Some(name),
            op_type: Some(op.to_string()),
            domain: Some(domain.to_string()),
            attribute: attrs.into_iter().map(|(n, a)| attribute(n, a)).collect(),
            ..NodeProto::default()
        });
    }

    /// The model: this graph with the opsets it uses.
    pub fn model(self, name: &str, doc: String) -> ModelProto {
        let opset = |domain: &str, version| OperatorSetIdProto {
            domain: Some(domain.to_string()),
            version: Some(version),
        };
        ModelProto {
            ir_version: Some(IR_VERSION),
            opset_import: vec![opset("", OPSET), opset(ML, ML_OPSET)],
            producer_name: Some("cauce".into()),
            producer_version: Some(env!("CARGO_PKG_VERSION").into()),
            doc_string: Some(doc),
            graph: Some(GraphProto {
                node: self.nodes,
                name: Some(name.to_string()),
                initializer: self.initializers,
                input: self.inputs,
                output: self.outputs,
                ..GraphProto::default()
            }),
            ..ModelProto::default()
        }
    }
}

/// A tensor of doubles with shape `dims` (an attribute value).
pub fn tensor_f64(values: Vec<f64>, dims: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(Elem::Double.code()),
        double_data: values,
        ..TensorProto::default()
    }
}

/// A tensor of bytes, shape `[len]` (`TreeEnsemble`'s node modes).
pub fn tensor_u8(values: &[u8]) -> TensorProto {
    TensorProto {
        dims: vec![values.len() as i64],
        data_type: Some(DataType::Uint8 as i32),
        raw_data: Some(values.to_vec()),
        ..TensorProto::default()
    }
}

fn attribute(name: &str, value: Attr) -> AttributeProto {
    let mut attr = AttributeProto {
        name: Some(name.to_string()),
        ..AttributeProto::default()
    };
    let kind = match value {
        Attr::Int(i) => {
            attr.i = Some(i);
            AttributeType::Int
        }
        Attr::Ints(ints) => {
            attr.ints = ints;
            AttributeType::Ints
        }
        Attr::Text(s) => {
            attr.s = Some(s.into_bytes());
            AttributeType::String
        }
        Attr::Texts(texts) => {
            attr.strings = texts.into_iter().map(String::into_bytes).collect();
            AttributeType::Strings
        }
        Attr::Tensor(t) => {
            attr.t = Some(t);
            AttributeType::Tensor
        }
    };
    attr.r#type = Some(kind as i32);
    attr
}

fn value_info(name: &str, elem: Elem, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = |d: &Option<i64>| tensor_shape_proto::Dimension {
        value: Some(match d {
            Some(v) => tensor_shape_proto::dimension::Value::DimValue(*v),
            None => tensor_shape_proto::dimension::Value::DimParam("N".into()),
        }),
        ..tensor_shape_proto::Dimension::default()
    };
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem.code()),
                shape: Some(TensorShapeProto {
                    dim: dims.iter().map(dim).collect(),
                }),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}
