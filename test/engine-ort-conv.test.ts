// The convolution family against onnxruntime-node: Conv (groups, depthwise,
// pads, auto_pad, strides, dilations, 1-D/2-D/3-D), ConvTranspose, MaxPool,
// AveragePool, the global pools, BatchNormalization, Resize and Pad, each
// attribute variant as a one-node model; small graphs that the load-time
// passes rewrite (Conv + BatchNormalization folding, Conv + activation
// fusion); and the cnn-small demo model at batch 1 and 8.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OnnxTensorInit } from '../models/onnx-writer';
import { buildCnnSmallModel, CNN_SMALL } from '../models/cnn-small';
import { compareWithOrt, cycle, type Feeds, randomTensor, rngFor, runOrt, uniform } from './support/ort-compare';
import {
  caseTestsRegistered,
  describeCaseGroups,
  float,
  int,
  ints,
  type ModelCase,
  NONE,
  opCase,
  out,
  str,
  w,
  x,
} from './support/ort-cases';

const F = 'float32';

function convCases(): ModelCase[] {
  const c = (
    name: string,
    xDims: number[],
    wDims: number[],
    outDims: number[],
    attributes: Parameters<typeof opCase>[4] = {},
    bias = true,
  ) =>
    opCase(
      `Conv ${name}`,
      'Conv',
      bias ? [x(F, xDims), w(F, wDims), w(F, [wDims[0]])] : [x(F, xDims), w(F, wDims)],
      out(F, outDims),
      attributes,
    );
  return [
    c('3x3 no padding', [1, 3, 7, 7], [4, 3, 3, 3], [1, 4, 5, 5]),
    c('3x3 pads 1', [2, 3, 7, 7], [4, 3, 3, 3], [2, 4, 7, 7], { pads: ints([1, 1, 1, 1]) }),
    c('asymmetric pads [0,1,2,1]', [1, 3, 6, 7], [5, 3, 3, 3], [1, 5, 6, 7], { pads: ints([0, 1, 2, 1]) }),
    c('stride 2 pads 1', [1, 3, 9, 8], [4, 3, 3, 3], [1, 4, 5, 4], { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }),
    c('strides [1,3]', [1, 2, 7, 10], [3, 2, 3, 3], [1, 3, 5, 3], { strides: ints([1, 3]) }),
    c('dilations 2', [1, 3, 9, 9], [4, 3, 3, 3], [1, 4, 5, 5], { dilations: ints([2, 2]) }),
    c('dilations [2,1] pads 2', [1, 2, 8, 8], [3, 2, 3, 3], [1, 3, 8, 10], {
      dilations: ints([2, 1]),
      pads: ints([2, 2, 2, 2]),
    }),
    c('auto_pad SAME_UPPER stride 2 odd input', [1, 3, 7, 7], [4, 3, 3, 3], [1, 4, 4, 4], {
      auto_pad: str('SAME_UPPER'),
      strides: ints([2, 2]),
    }),
    c('auto_pad SAME_UPPER even kernel', [1, 3, 6, 6], [4, 3, 2, 2], [1, 4, 6, 6], { auto_pad: str('SAME_UPPER') }),
    c('auto_pad SAME_LOWER even kernel', [1, 3, 6, 6], [4, 3, 2, 2], [1, 4, 6, 6], { auto_pad: str('SAME_LOWER') }),
    c('auto_pad SAME_LOWER stride 2', [1, 3, 8, 7], [4, 3, 3, 3], [1, 4, 4, 4], {
      auto_pad: str('SAME_LOWER'),
      strides: ints([2, 2]),
    }),
    c('auto_pad VALID stride 2', [1, 3, 8, 7], [4, 3, 3, 3], [1, 4, 3, 3], {
      auto_pad: str('VALID'),
      strides: ints([2, 2]),
    }),
    c('explicit kernel_shape', [1, 3, 5, 5], [2, 3, 3, 3], [1, 2, 3, 3], { kernel_shape: ints([3, 3]) }),
    c('no bias', [1, 3, 6, 6], [4, 3, 3, 3], [1, 4, 4, 4], {}, false),
    c('group 2', [1, 4, 6, 6], [6, 2, 3, 3], [1, 6, 6, 6], { group: int(2), pads: ints([1, 1, 1, 1]) }),
    c('group 3 stride 2', [2, 6, 7, 7], [9, 2, 3, 3], [2, 9, 3, 3], { group: int(3), strides: ints([2, 2]) }),
    c('depthwise 3x3 pads 1', [2, 8, 9, 9], [8, 1, 3, 3], [2, 8, 9, 9], { group: int(8), pads: ints([1, 1, 1, 1]) }),
    c('depthwise stride 2', [1, 8, 9, 10], [8, 1, 3, 3], [1, 8, 5, 5], {
      group: int(8),
      pads: ints([1, 1, 1, 1]),
      strides: ints([2, 2]),
    }),
    c('depthwise multiplier 2', [1, 4, 6, 6], [8, 1, 3, 3], [1, 8, 6, 6], { group: int(4), pads: ints([1, 1, 1, 1]) }),
    // (onnxruntime refuses dilations with auto_pad SAME_*, so this one has explicit pads.)
    c('depthwise dilation 2', [1, 4, 9, 9], [4, 1, 3, 3], [1, 4, 9, 9], {
      group: int(4),
      dilations: ints([2, 2]),
      pads: ints([2, 2, 2, 2]),
    }),
    c('depthwise 5x5 no bias', [1, 6, 11, 11], [6, 1, 5, 5], [1, 6, 7, 7], { group: int(6) }, false),
    c('pointwise 1x1', [2, 8, 5, 5], [16, 8, 1, 1], [2, 16, 5, 5]),
    c('1x1 stride 2', [1, 8, 6, 6], [4, 8, 1, 1], [1, 4, 3, 3], { strides: ints([2, 2]) }),
    c('1x1 with pads', [1, 4, 3, 3], [2, 4, 1, 1], [1, 2, 5, 5], { pads: ints([1, 1, 1, 1]) }),
    c('1-D pads 1 stride 2', [2, 3, 10], [5, 3, 3], [2, 5, 5], { pads: ints([1, 1]), strides: ints([2]) }),
    c('1-D depthwise', [1, 4, 12], [4, 1, 5], [1, 4, 12], { group: int(4), pads: ints([2, 2]) }),
    c('3-D pads 1', [1, 2, 5, 6, 7], [3, 2, 3, 3, 3], [1, 3, 5, 6, 7], { pads: ints([1, 1, 1, 1, 1, 1]) }),
    c('3-D stride 2 dilations', [1, 2, 7, 7, 7], [2, 2, 2, 2, 2], [1, 2, 3, 3, 3], {
      strides: ints([2, 2, 2]),
      dilations: ints([1, 2, 1]),
    }),
    c('batch 5 (images split over threads)', [5, 8, 10, 10], [12, 8, 3, 3], [5, 12, 10, 10], {
      pads: ints([1, 1, 1, 1]),
    }),
    c('K over 256 and M over 96', [1, 32, 12, 12], [100, 32, 3, 3], [1, 100, 12, 12], { pads: ints([1, 1, 1, 1]) }),
    c('wide image, one GEMM over many column blocks', [1, 4, 40, 60], [8, 4, 3, 3], [1, 8, 40, 60], {
      pads: ints([1, 1, 1, 1]),
    }),
    opCase(
      'Conv weights as graph inputs',
      'Conv',
      [x(F, [2, 4, 6, 6]), x(F, [6, 4, 3, 3]), x(F, [6])],
      out(F, [2, 6, 4, 4]),
    ),
  ];
}

function convTransposeCases(): ModelCase[] {
  const t = (
    name: string,
    xDims: number[],
    wDims: number[],
    outDims: number[],
    attributes: Parameters<typeof opCase>[4] = {},
    bias = true,
  ) => {
    const group = attributes.group && 'int' in attributes.group ? attributes.group.int : 1;
    const operands = [x(F, xDims), w(F, wDims)];
    if (bias) operands.push(w(F, [wDims[1] * group]));
    return opCase(`ConvTranspose ${name}`, 'ConvTranspose', operands, out(F, outDims), attributes);
  };
  return [
    t('3x3', [1, 2, 4, 4], [2, 3, 3, 3], [1, 3, 6, 6]),
    t('stride 2 pads 1 output_padding 1', [2, 3, 4, 5], [3, 2, 3, 3], [2, 2, 8, 10], {
      strides: ints([2, 2]),
      pads: ints([1, 1, 1, 1]),
      output_padding: ints([1, 1]),
    }),
    t('group 2', [1, 4, 3, 3], [4, 2, 3, 3], [1, 4, 5, 5], { group: int(2) }),
    t('output_shape', [1, 2, 3, 3], [2, 2, 3, 3], [1, 2, 6, 6], { strides: ints([2, 2]), output_shape: ints([6, 6]) }),
    t('output_shape SAME_UPPER', [1, 2, 3, 3], [2, 2, 3, 3], [1, 2, 6, 6], {
      strides: ints([2, 2]),
      output_shape: ints([6, 6]),
      auto_pad: str('SAME_UPPER'),
    }),
    t('output_shape with output_padding', [1, 2, 3, 3], [2, 2, 3, 3], [1, 2, 7, 8], {
      strides: ints([2, 2]),
      output_shape: ints([7, 8]),
      output_padding: ints([1, 1]),
    }),
    t('auto_pad SAME_UPPER stride 2', [1, 2, 3, 4], [2, 3, 3, 3], [1, 3, 6, 8], {
      strides: ints([2, 2]),
      auto_pad: str('SAME_UPPER'),
    }),
    t('auto_pad SAME_LOWER stride 2', [1, 2, 3, 4], [2, 3, 3, 3], [1, 3, 6, 8], {
      strides: ints([2, 2]),
      auto_pad: str('SAME_LOWER'),
    }),
    t('dilations 2', [1, 2, 4, 4], [2, 2, 3, 3], [1, 2, 8, 8], { dilations: ints([2, 2]) }),
    t('2x2 stride 2 no bias', [1, 4, 5, 5], [4, 3, 2, 2], [1, 3, 10, 10], { strides: ints([2, 2]) }, false),
    t('1-D stride 3', [2, 3, 5], [3, 2, 4], [2, 2, 16], { strides: ints([3]) }),
  ];
}

function poolCases(): ModelCase[] {
  const p = (
    op: string,
    name: string,
    xDims: number[],
    outDims: number[],
    attributes: Parameters<typeof opCase>[4],
    opset = 13,
  ) => opCase(`${op} ${name}`, op, [x(F, xDims)], out(F, outDims), attributes, opset);
  const k2s2 = { kernel_shape: ints([2, 2]), strides: ints([2, 2]) };
  const cases: ModelCase[] = [];
  for (const op of ['MaxPool', 'AveragePool']) {
    cases.push(
      p(op, '2x2 stride 2', [2, 3, 8, 8], [2, 3, 4, 4], k2s2),
      p(op, '3x3 stride 2 pads 1', [1, 4, 9, 9], [1, 4, 5, 5], {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        pads: ints([1, 1, 1, 1]),
      }),
      p(op, 'asymmetric pads [1,0,0,2]', [1, 2, 6, 6], [1, 2, 5, 6], {
        kernel_shape: ints([3, 3]),
        pads: ints([1, 0, 0, 2]),
      }),
      p(op, 'ceil_mode on odd input', [1, 2, 7, 7], [1, 2, 4, 4], { ...k2s2, ceil_mode: int(1) }),
      p(op, 'ceil_mode drops a window starting in the end padding', [1, 2, 5, 5], [1, 2, 3, 3], {
        ...k2s2,
        ceil_mode: int(1),
        pads: ints([1, 1, 1, 1]),
      }),
      p(op, 'auto_pad SAME_UPPER', [1, 2, 7, 7], [1, 2, 4, 4], {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        auto_pad: str('SAME_UPPER'),
      }),
      p(op, 'auto_pad SAME_LOWER', [1, 2, 6, 6], [1, 2, 6, 6], {
        kernel_shape: ints([2, 2]),
        auto_pad: str('SAME_LOWER'),
      }),
      p(op, 'auto_pad VALID', [1, 2, 7, 6], [1, 2, 3, 2], {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        auto_pad: str('VALID'),
      }),
      p(op, '1-D', [2, 3, 11], [2, 3, 5], { kernel_shape: ints([3]), strides: ints([2]) }),
      p(op, '3-D', [1, 2, 6, 6, 6], [1, 2, 3, 3, 3], { kernel_shape: ints([2, 2, 2]), strides: ints([2, 2, 2]) }),
    );
  }
  for (const include of [0, 1]) {
    cases.push(
      p('AveragePool', `3x3 pads 1 count_include_pad=${include}`, [1, 3, 6, 6], [1, 3, 6, 6], {
        kernel_shape: ints([3, 3]),
        pads: ints([1, 1, 1, 1]),
        count_include_pad: int(include),
      }),
      p('AveragePool', `ceil_mode pads 1 count_include_pad=${include}`, [1, 2, 6, 6], [1, 2, 4, 4], {
        kernel_shape: ints([3, 3]),
        strides: ints([2, 2]),
        pads: ints([1, 1, 1, 1]),
        ceil_mode: int(1),
        count_include_pad: int(include),
      }),
    );
  }
  cases.push(
    p('MaxPool', 'dilations 2', [1, 2, 9, 9], [1, 2, 5, 5], { kernel_shape: ints([3, 3]), dilations: ints([2, 2]) }),
    p('MaxPool', 'dilations 2 stride 2 pads 1', [1, 2, 10, 10], [1, 2, 4, 4], {
      kernel_shape: ints([3, 3]),
      dilations: ints([2, 2]),
      strides: ints([2, 2]),
      pads: ints([1, 1, 1, 1]),
    }),
    p(
      'AveragePool',
      'dilations 2 (opset 19)',
      [1, 2, 9, 9],
      [1, 2, 5, 5],
      { kernel_shape: ints([3, 3]), dilations: ints([2, 2]) },
      19,
    ),
    opCase(
      'MaxPool with Indices',
      'MaxPool',
      [x(F, [2, 3, 7, 7])],
      [out(F, [2, 3, 3, 3]), out('int64', [2, 3, 3, 3])],
      { kernel_shape: ints([3, 3]), strides: ints([2, 2]) },
    ),
    opCase(
      'MaxPool with Indices, pads, storage_order 1',
      'MaxPool',
      [x(F, [1, 2, 5, 6])],
      [out(F, [1, 2, 3, 3]), out('int64', [1, 2, 3, 3])],
      { kernel_shape: ints([2, 2]), strides: ints([2, 2]), pads: ints([1, 1, 0, 0]), storage_order: int(1) },
    ),
    // onnxruntime has a uint8 MaxPool (and none for the widened int32), so the reference runs the model as is.
    {
      ...opCase('MaxPool uint8', 'MaxPool', [x('uint8', [1, 2, 6, 6])], out('uint8', [1, 2, 3, 3]), k2s2),
      reference: 'direct',
    },
    opCase('MaxPool float64', 'MaxPool', [x('float64', [1, 2, 6, 6])], out('float64', [1, 2, 3, 3]), k2s2),
  );
  for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
    cases.push(
      opCase(`${op} 2-D`, op, [x(F, [2, 5, 7, 7])], out(F, [2, 5, 1, 1])),
      opCase(`${op} 1-D`, op, [x(F, [2, 3, 10])], out(F, [2, 3, 1])),
      opCase(`${op} 3-D`, op, [x(F, [1, 3, 4, 5, 6])], out(F, [1, 3, 1, 1, 1])),
      opCase(`${op} large plane`, op, [x(F, [1, 4, 33, 31])], out(F, [1, 4, 1, 1])),
    );
  }
  return cases;
}

function batchNormCases(): ModelCase[] {
  const variance = uniform(0.1, 2);
  const bn = (name: string, xDims: number[], attributes: Parameters<typeof opCase>[4] = {}, opset = 15) => {
    const C = xDims[1];
    return opCase(
      `BatchNormalization ${name}`,
      'BatchNormalization',
      [x(F, xDims), w(F, [C]), w(F, [C]), w(F, [C]), w(F, [C], undefined, variance)],
      out(F, xDims),
      attributes,
      opset,
    );
  };
  return [
    bn('4-D', [2, 3, 4, 5]),
    bn('epsilon 1e-3', [1, 4, 3, 3], { epsilon: float(1e-3) }),
    bn('2-D input', [4, 6]),
    bn('3-D input opset 9', [2, 3, 7], {}, 9),
    opCase(
      'BatchNormalization parameters as inputs',
      'BatchNormalization',
      [x(F, [2, 3, 4, 4]), x(F, [3]), x(F, [3]), x(F, [3]), x(F, [3], uniform(0.1, 2))],
      out(F, [2, 3, 4, 4]),
    ),
  ];
}

function resizeCases(): ModelCase[] {
  const r = (
    name: string,
    xDims: number[],
    scales: number[],
    outDims: number[],
    attributes: Parameters<typeof opCase>[4],
    opset = 13,
  ) =>
    opCase(
      `Resize ${name}`,
      'Resize',
      [x(F, xDims), NONE, w(F, [scales.length], scales)],
      out(F, outDims),
      attributes,
      opset,
    );
  const cases: ModelCase[] = [];
  const coordinateModes = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'];
  for (const mode of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
    for (const coordinates of coordinateModes) {
      cases.push(
        r(`nearest ${mode} ${coordinates} x2`, [1, 2, 3, 4], [1, 1, 2, 2], [1, 2, 6, 8], {
          mode: str('nearest'),
          nearest_mode: str(mode),
          coordinate_transformation_mode: str(coordinates),
        }),
      );
    }
    cases.push(
      r(`nearest ${mode} x1.5 and x0.6`, [1, 1, 5, 5], [1, 1, 1.5, 0.6], [1, 1, 7, 3], {
        mode: str('nearest'),
        nearest_mode: str(mode),
      }),
    );
  }
  for (const coordinates of [...coordinateModes.filter((m) => m !== 'tf_half_pixel_for_nn')]) {
    cases.push(
      r(`linear ${coordinates} x2`, [2, 3, 4, 5], [1, 1, 2, 2], [2, 3, 8, 10], {
        mode: str('linear'),
        coordinate_transformation_mode: str(coordinates),
      }),
      r(`linear ${coordinates} down x0.5`, [1, 2, 8, 6], [1, 1, 0.5, 0.5], [1, 2, 4, 3], {
        mode: str('linear'),
        coordinate_transformation_mode: str(coordinates),
      }),
    );
  }
  cases.push(
    r('linear on a 3-D tensor', [2, 3, 5], [1, 1, 1.6], [2, 3, 8], { mode: str('linear') }),
    r(
      'linear half_pixel_symmetric (opset 19)',
      [1, 1, 4, 6],
      [1, 1, 1.7, 0.8],
      [1, 1, 6, 4],
      { mode: str('linear'), coordinate_transformation_mode: str('half_pixel_symmetric') },
      19,
    ),
    opCase(
      'Resize nearest from sizes',
      'Resize',
      [x(F, [1, 3, 4, 4]), NONE, NONE, w('int64', [4], [1, 3, 7, 9])],
      out(F, [1, 3, 7, 9]),
      { mode: str('nearest') },
    ),
    opCase(
      'Resize linear from sizes',
      'Resize',
      [x(F, [1, 3, 4, 4]), NONE, NONE, w('int64', [4], [1, 3, 7, 9])],
      out(F, [1, 3, 7, 9]),
      { mode: str('linear') },
    ),
    opCase(
      'Resize linear tf_crop_and_resize with extrapolation',
      'Resize',
      [x(F, [1, 1, 5, 5]), w(F, [8], [0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3]), NONE, w('int64', [4], [1, 1, 4, 6])],
      out(F, [1, 1, 4, 6]),
      {
        mode: str('linear'),
        coordinate_transformation_mode: str('tf_crop_and_resize'),
        extrapolation_value: float(-7),
      },
    ),
    opCase(
      'Resize nearest tf_crop_and_resize',
      'Resize',
      [x(F, [1, 1, 6, 6]), w(F, [8], [0, 0, 0.1, 0.2, 1, 1, 0.8, 0.9]), NONE, w('int64', [4], [1, 1, 3, 4])],
      out(F, [1, 1, 3, 4]),
      { mode: str('nearest'), coordinate_transformation_mode: str('tf_crop_and_resize') },
    ),
    opCase(
      'Resize axes [2,3] (opset 18)',
      'Resize',
      [x(F, [1, 2, 3, 4]), NONE, w(F, [2], [2, 1.5])],
      out(F, [1, 2, 6, 6]),
      { mode: str('linear'), axes: ints([2, 3]) },
      18,
    ),
    opCase(
      'Resize opset 10 nearest',
      'Resize',
      [x(F, [1, 2, 3, 3]), w(F, [4], [1, 1, 2, 2.5])],
      out(F, [1, 2, 6, 7]),
      { mode: str('nearest') },
      10,
    ),
    opCase(
      'Resize nearest uint8',
      'Resize',
      [x('uint8', [1, 1, 3, 3]), NONE, w(F, [4], [1, 1, 2, 2])],
      out('uint8', [1, 1, 6, 6]),
      { mode: str('nearest') },
    ),
    opCase(
      'Resize scales as a graph input',
      'Resize',
      [x(F, [1, 2, 3, 3]), NONE, x(F, [4], cycle([1, 1, 2, 3]))],
      out(F, [1, 2, 6, 9]),
      { mode: str('linear') },
    ),
  );
  return cases;
}

function padCases(): ModelCase[] {
  const pad = (
    name: string,
    xDims: number[],
    pads: number[],
    outDims: number[],
    mode: string,
    opset = 13,
    value?: number,
  ) => {
    const operands = [x(F, xDims), w('int64', [pads.length], pads)];
    if (value !== undefined) operands.push(w(F, [], [value]));
    return opCase(`Pad ${name}`, 'Pad', operands, out(F, outDims), { mode: str(mode) }, opset);
  };
  const cases: ModelCase[] = [];
  for (const mode of ['constant', 'reflect', 'edge']) {
    cases.push(
      pad(`${mode} 2-D`, [3, 4], [1, 2, 2, 1], [6, 7], mode),
      pad(`${mode} NCHW spatial`, [1, 2, 4, 5], [0, 0, 1, 2, 0, 0, 3, 1], [1, 2, 8, 8], mode),
      pad(`${mode} with negative pads (crop)`, [2, 5, 6], [0, -1, 2, 0, 1, -2], [2, 5, 6], mode),
    );
  }
  cases.push(
    pad('constant value 1.5', [2, 3], [1, 1, 1, 1], [4, 5], 'constant', 13, 1.5),
    pad('wrap (opset 19)', [3, 4], [2, 3, 1, 2], [6, 9], 'wrap', 19),
    pad('reflect 1-D', [6], [3, 4], [13], 'reflect'),
    opCase(
      'Pad axes [1,3] (opset 18)',
      'Pad',
      [x(F, [1, 2, 3, 4]), w('int64', [4], [1, 2, 0, 1]), NONE, w('int64', [2], [1, 3])],
      out(F, [1, 3, 3, 7]),
      { mode: str('constant') },
      18,
    ),
    opCase(
      'Pad opset 2 (pads attribute)',
      'Pad',
      [x(F, [2, 3])],
      out(F, [3, 6]),
      { mode: str('constant'), pads: ints([0, 1, 1, 2]), value: float(-2) },
      2,
    ),
    opCase('Pad int64 data, edge', 'Pad', [x('int64', [2, 3]), w('int64', [4], [1, 1, 1, 1])], out('int64', [4, 5]), {
      mode: str('edge'),
    }),
  );
  return cases;
}

// Graphs the load-time passes rewrite: the results must not change.
function fusionCases(): ModelCase[] {
  const rng = rngFor('conv fusion cases/initializers');
  const tensor = (name: string, dims: number[], low = -1, high = 1): OnnxTensorInit => ({
    name,
    dataType: 'FLOAT',
    dims,
    values: randomTensor(F, dims, rng, uniform(low, high)).data,
  });
  const bnParams = (prefix: string, C: number) => [
    tensor(`${prefix}.scale`, [C]),
    tensor(`${prefix}.bias`, [C]),
    tensor(`${prefix}.mean`, [C]),
    tensor(`${prefix}.var`, [C], 0.2, 2),
  ];
  const bnNode = (prefix: string, input: string, output: string) => ({
    opType: 'BatchNormalization',
    inputs: [input, `${prefix}.scale`, `${prefix}.bias`, `${prefix}.mean`, `${prefix}.var`],
    outputs: [output],
    attributes: { epsilon: float(1e-3) },
  });
  return [
    {
      name: 'Conv -> BatchNormalization -> Relu',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [2, 3, 8, 8] }],
      initializers: [tensor('W', [6, 3, 3, 3]), tensor('B', [6]), ...bnParams('bn', 6)],
      nodes: [
        { opType: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'], attributes: { pads: ints([1, 1, 1, 1]) } },
        bnNode('bn', 'c', 'n'),
        { opType: 'Relu', inputs: ['n'], outputs: ['y'] },
      ],
      outputs: { y: out(F, [2, 6, 8, 8]) },
    },
    {
      name: 'Conv without bias -> BatchNormalization, depthwise -> BatchNormalization -> Sigmoid',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [1, 4, 6, 6] }],
      initializers: [
        tensor('W1', [4, 4, 1, 1]),
        ...bnParams('bn1', 4),
        tensor('W2', [4, 1, 3, 3]),
        ...bnParams('bn2', 4),
      ],
      nodes: [
        { opType: 'Conv', inputs: ['x', 'W1'], outputs: ['c1'] },
        bnNode('bn1', 'c1', 'n1'),
        {
          opType: 'Conv',
          inputs: ['n1', 'W2'],
          outputs: ['c2'],
          attributes: { group: int(4), pads: ints([1, 1, 1, 1]) },
        },
        bnNode('bn2', 'c2', 'n2'),
        { opType: 'Sigmoid', inputs: ['n2'], outputs: ['y'] },
      ],
      outputs: { y: out(F, [1, 4, 6, 6]) },
    },
    {
      name: 'Conv whose output is also a graph output is not folded into its BatchNormalization',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [1, 2, 5, 5] }],
      initializers: [tensor('W', [3, 2, 3, 3]), tensor('B', [3]), ...bnParams('bn', 3)],
      nodes: [
        { opType: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['c'] },
        bnNode('bn', 'c', 'n'),
        { opType: 'Tanh', inputs: ['n'], outputs: ['y'] },
      ],
      outputs: { c: out(F, [1, 3, 3, 3]), y: out(F, [1, 3, 3, 3]) },
    },
    {
      name: 'Conv -> Relu -> MaxPool -> Conv -> Add (residual) -> Relu -> GlobalAveragePool',
      opset: 13,
      inputs: [{ name: 'x', type: F, dims: [2, 4, 8, 8] }],
      initializers: [tensor('W1', [4, 4, 3, 3]), tensor('B1', [4]), tensor('W2', [4, 4, 3, 3])],
      nodes: [
        { opType: 'Conv', inputs: ['x', 'W1', 'B1'], outputs: ['c1'], attributes: { pads: ints([1, 1, 1, 1]) } },
        { opType: 'Relu', inputs: ['c1'], outputs: ['r1'] },
        {
          opType: 'MaxPool',
          inputs: ['r1'],
          outputs: ['p'],
          attributes: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) },
        },
        { opType: 'Conv', inputs: ['p', 'W2'], outputs: ['c2'], attributes: { pads: ints([1, 1, 1, 1]) } },
        { opType: 'Add', inputs: ['c2', 'p'], outputs: ['s'] },
        { opType: 'Relu', inputs: ['s'], outputs: ['r2'] },
        { opType: 'GlobalAveragePool', inputs: ['r2'], outputs: ['y'] },
      ],
      outputs: { y: out(F, [2, 4, 1, 1]) },
    },
  ];
}

// Exported for the GPU parity suite (test/gpu/parity.test.ts).
export const GROUPS: Array<[string, () => ModelCase[]]> = [
  ['Conv', convCases],
  ['ConvTranspose', convTransposeCases],
  ['MaxPool, AveragePool, global pools', poolCases],
  ['BatchNormalization', batchNormCases],
  ['Resize', resizeCases],
  ['Pad', padCases],
  ['Conv + BatchNormalization folding, Conv + activation fusion', fusionCases],
];

describeCaseGroups(GROUPS);

// ---- cnn-small ----------------------------------------------------------------

function cnnFeeds(batch: number): Feeds {
  const { input } = CNN_SMALL;
  return {
    [input.name]: randomTensor(F, [batch, ...input.dims.slice(1)], rngFor(`cnn-small batch ${batch}`), uniform(0, 1)),
  };
}

if (caseTestsRegistered())
  describe('engine vs onnxruntime: cnn-small', () => {
    for (const batch of [1, 8]) {
      test(`cnn-small batch ${batch}`, async () => {
        await compareWithOrt(buildCnnSmallModel(), cnnFeeds(batch), { [CNN_SMALL.output.name]: out(F, [batch, 100]) });
      });
    }

    test('cnn-small builds are byte-identical and its logits are neither constant nor huge', async () => {
      assert.deepEqual(buildCnnSmallModel(), buildCnnSmallModel());
      const logits = (await runOrt(buildCnnSmallModel(), cnnFeeds(2)))[CNN_SMALL.output.name].data as Float32Array;
      const values = Array.from(logits);
      const spread = Math.max(...values) - Math.min(...values);
      assert.ok(spread > 0.1, `logits barely vary: spread ${spread}`);
      assert.ok(
        values.every((v) => Number.isFinite(v) && Math.abs(v) < 100),
        'logits stay finite and moderate',
      );
      // Two different images give different logits.
      assert.notDeepEqual(values.slice(0, 100), values.slice(100, 200));
    });
  });
