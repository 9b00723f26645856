import { describe, expect, it } from 'vitest';
import { Generator, GeneratorSeedError } from './generator.js';
import { Mt19937 } from './mt19937.js';
import { fmaf } from '../tensor/fma.js';
import { cast } from '../tensor/cast.js';

const round4 = (values: ArrayLike<number>) => Array.from(values, (v) => Math.round(v * 1e4) / 1e4);

describe('Mt19937', () => {
  it('matches the reference outputs for the default seed 5489', () => {
    // The C++ standard requires std::mt19937's 1st output to be 3499211612
    // and its 10000th to be 4123659995 for the default seed.
    const mt = new Mt19937();
    expect(mt.next()).toBe(3499211612);
    let last = 0;
    const again = new Mt19937(5489);
    for (let i = 0; i < 10000; i++) last = again.next();
    expect(last).toBe(4123659995);
  });
});

describe('Generator: torch.randn / torch.rand on CPU, small tensors (< 16 elements)', () => {
  it('reproduces torch.manual_seed(0); torch.randn(7) bit for bit', () => {
    // Published .tolist() output of torch 2.13 (float32 values printed as doubles);
    // the first four are also the well-known [1.5410, -0.2934, -2.1788, 0.5684].
    const expected = [
      1.5409960746765137, -0.293428897857666, -2.1787893772125244, 0.5684312582015991, -1.0845223665237427,
      -1.3985954523086548, 0.40334683656692505,
    ];
    expect(Array.from(new Generator(0).randn([7]).data)).toEqual(expected);
  });

  it('reproduces torch.manual_seed(0); torch.rand(7) bit for bit', () => {
    // Same published record: 24-bit uniforms (random() & 0xFFFFFF) * 2^-24.
    const expected = [
      0.49625658988952637, 0.7682217955589294, 0.08847743272781372, 0.13203048706054688, 0.30742281675338745,
      0.6340786814689636, 0.4900934100151062,
    ];
    expect(Array.from(new Generator(0).rand([7]).data)).toEqual(expected);
  });

  it('matches torch.manual_seed(42); torch.randn(2, 3) and randn(4, 3) after seed 0', () => {
    // Printed in tutorials: [[0.3367, 0.1288, 0.2345], [0.2303, -1.1229, -0.1863]].
    expect(round4(new Generator(42).randn([2, 3]).data)).toEqual([0.3367, 0.1288, 0.2345, 0.2303, -1.1229, -0.1863]);
    // A published .tolist() of torch.manual_seed(0); torch.randn(4, 3) (12 elements, scalar path).
    expect(Array.from(new Generator(0).randn([4, 3]).data)).toEqual([
      1.5409960746765137, -0.293428897857666, -2.1787893772125244, 0.5684312582015991, -1.0845223665237427,
      -1.3985954523086548, 0.40334683656692505, 0.8380263447761536, -0.7192575931549072, -0.40334352850914,
      -0.5966353416442871, 0.18203648924827576,
    ]);
  });

  it('continues the stream across calls, including the cached Box-Muller sine (pytorch issue #80202)', () => {
    // torch.manual_seed(0); randn(1,7)[:,0] -> 1.5410; randn(1,7)[:,0] -> 0.8380 (the cached
    // second half of the 4th pair); randn(1,8) twice -> 1.5410 then -0.7193 (no cache left).
    const g = new Generator(0);
    expect(round4([g.randn([1, 7]).data[0]])).toEqual([1.541]);
    expect(round4([g.randn([1, 7]).data[0]])).toEqual([0.838]);
    g.manualSeed(0);
    expect(round4([g.randn([1, 8]).data[0]])).toEqual([1.541]);
    expect(round4([g.randn([1, 8]).data[0]])).toEqual([-0.7193]);
  });
});

describe('Generator: torch.randn on CPU, >= 16 elements (vectorized normal_fill)', () => {
  it('reproduces torch.manual_seed(0); torch.randn(3, 9) bit for bit (one block plus a redrawn tail)', () => {
    // Published .tolist() output, compared with == in its source test.
    const expected = [
      -1.1258398294448853, -1.152360200881958, -0.2505785822868347, -0.4338788092136383, 0.8487103581428528,
      0.6920091509819031, -0.31601276993751526, -2.1152193546295166, 0.32227492332458496, -1.2633347511291504,
      0.34998318552970886, 0.26604941487312317, 0.16645534336566925, 0.8743818402290344, -0.14347384870052338,
      -0.1116093322634697, -0.6135830879211426, 0.03159274160861969, -0.4926769733428955, 0.05373690277338028,
      0.6180566549301147, -0.41280221939086914, -0.8410648107528687, -2.316041946411133, -0.10230965167284012,
      0.7924439907073975, -0.28966769576072693,
    ];
    expect(Array.from(new Generator(0).randn([3, 9]).data)).toEqual(expected);
  });

  it('reproduces torch.manual_seed(0); torch.randn(6, 4) bit for bit', () => {
    // Published .tolist() output ("ground truth from the actual library").
    const expected = [
      -1.1258398294448853, -1.152360200881958, -0.2505785822868347, -0.4338788092136383, 0.8487103581428528,
      0.6920091509819031, -0.31601276993751526, -2.1152193546295166, 0.46809640526771545, -0.1577124446630478,
      1.4436601400375366, 0.26604941487312317, 0.16645534336566925, 0.8743818402290344, -0.14347384870052338,
      -0.1116093322634697, 0.9318265914916992, 1.2590092420578003, 2.0049805641174316, 0.05373690277338028,
      0.6180566549301147, -0.41280221939086914, -0.8410648107528687, -2.316041946411133,
    ];
    expect(Array.from(new Generator(0).randn([6, 4]).data)).toEqual(expected);
  });

  it('matches printed torch.randn(4, 4) after seed 0 and randn(2, 16), randn(2, 3, 4) after seed 42', () => {
    expect(round4(new Generator(0).randn([4, 4]).data)).toEqual([
      -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.3223, -1.2633, 0.35, 0.3081, 0.1198, 1.2377,
      1.1168, -0.2473,
    ]);
    expect(round4(new Generator(42).randn([2, 16]).data)).toEqual([
      1.9269, 1.4873, 0.9007, -2.1055, 0.6784, -1.2345, -0.0431, -1.6047, -0.7521, 1.6487, -0.3925, -1.4036, -0.7279,
      -0.5594, -0.7688, 0.7624, 1.6423, -0.1596, -0.4974, 0.4396, -0.7581, 1.0783, 0.8008, 1.6806, 1.2791, 1.2964,
      0.6105, 1.3347, -0.2316, 0.0418, -0.2516, 0.8599,
    ]);
    expect(round4(new Generator(42).randn([2, 3, 4]).data)).toEqual([
      1.9269, 1.4873, 0.9007, -2.1055, 0.6784, -1.2345, -0.0431, -1.6047, 0.3559, -0.6866, -0.4934, 0.2415, -1.1109,
      0.0915, -2.3169, -0.2168, -0.3097, -0.3957, 0.8034, -0.6216, -0.592, -0.0631, -0.8286, 0.3309,
    ]);
  });

  // Reference data of OpenVINO's scaled-dot-product-attention test (generated with torch
  // after manual_seed(0)): q, k and v are 120, 40 and 40 consecutive samples of three randn
  // calls, published with the first two axes of [4, 6, 5], [4, 2, 5] and [4, 2, 5] swapped.
  // 200 samples, including three redrawn tails.
  const Q = [
  -1.1258398294448853, -1.152360200881958, -0.2505785822868347, -0.4338788092136383, 0.8487103581428528,
  0.946298360824585, -0.843676745891571, -0.6135830879211426, 0.03159274160861969, -0.4926769733428955,
  -1.5311843156814575, -1.2341350317001343, 1.8197252750396729, -0.5515286922454834, -0.5692480802536011,
  -1.881689190864563, -0.049727022647857666, -1.0449786186218262, -0.9565008282661438, 0.03353185951709747,
  0.6920091509819031, -0.31601276993751526, -2.1152193546295166, 0.32227492332458496, -1.2633347511291504,
  0.2484147548675537, 0.4396958351135254, 0.11241118609905243, 0.6407923698425293, 0.441156268119812,
  0.9199714064598083, 1.1108161211013794, 1.2898740768432617, -1.4781739711761475, 2.567232847213745,
  0.7100865840911865, 1.6458669900894165, -1.3601689338684082, 0.34456542134284973, 0.5198677182197571,
  0.34998318552970886, 0.30813392996788025, 0.11984150856733322, 1.237657904624939, 1.1167771816253662,
  -0.10230965167284012, 0.7924439907073975, -0.28966769576072693, 0.05250748619437218, 0.5228604674339294,
  -0.4731197953224182, 0.3355507552623749, -1.6293259859085083, -0.54974365234375, -0.47983425855636597,
  -2.6133224964141846, -1.6964744329452515, -0.22824178636074066, 0.2799549996852875, -0.7015236020088196,
  -0.2472781538963318, -1.3526537418365479, -1.6959311962127686, 0.5666506290435791, 0.7935083508491516,
  2.3022053241729736, -1.4688938856124878, -1.586688756942749, -0.6730899214744568, 0.8728312253952026,
  -0.4996815323829651, -1.0669803619384766, 1.114939570426941, -0.14067143201828003, 0.8057535886764526,
  1.0366867780685425, -0.6036701202392578, -1.2787652015686035, 0.0929502323269844, -0.6660997271537781,
  0.5988394618034363, -1.5550950765609741, -0.3413603901863098, 1.85300612449646, 0.750189483165741,
  1.0553574562072754, 0.17784371972084045, -0.23033547401428223, -0.3917543888092041, 0.5432947278022766,
  -0.09334823489189148, 0.6870502233505249, -0.8383153676986694, 0.0008918217499740422, 0.8418940901756287,
  0.6080471873283386, -0.7300198674201965, 1.3750379085540771, 0.659631073474884, 0.4765571057796478,
  -0.5854975581169128, -0.1733967512845993, 0.18347793817520142, 1.3893661499023438, 1.586334228515625,
  -0.3951575458049774, -0.4462171792984009, 0.7440207004547119, 1.5209795236587524, 3.4105026721954346,
  -0.4000341594219208, 1.0394619703292847, 0.3581531047821045, -0.24600094556808472, 2.302516460418701,
  -1.0163074731826782, 0.18036697804927826, 0.10833186656236649, -0.7548232674598694, 0.24431852996349335,
];
  const K = [
  1.1403506994247437, -0.08988206833600998, 0.7297962307929993, -1.8453190326690674, -0.025019939988851547,
  -1.1427778005599976, 0.03758539631962776, 2.6962764263153076, 1.235763669013977, 0.5428298115730286,
  -1.6115024089813232, -0.47944778203964233, -0.14335104823112488, -0.3172946274280548, -0.06614404916763306,
  1.5735383033752441, 0.7814299464225769, -1.0786579847335815, -0.720909833908081, 1.4707926511764526,
  1.3693809509277344, 2.6570231914520264, 0.9851194024085999, 0.37718191742897034, 1.101234793663025,
  0.5255303382873535, -0.8293668627738953, -1.4072566032409668, 1.6268466711044312, 0.1722732037305832,
  -0.3583550751209259, -1.5615617036819458, -0.3546432852745056, 1.0810725688934326, 0.13147805631160736,
  0.2756350040435791, 0.6667810678482056, -0.9943896532058716, -1.189363956451416, -1.1959494352340698,
];
  const V = [
  -0.5596300959587097, 0.5334718227386475, 0.40688660740852356, 0.3945865333080292, 0.1715109646320343,
  0.392026424407959, 0.5945261120796204, 0.6622740626335144, -1.2063024044036865, 0.6074396967887878,
  -1.2536547183990479, 0.9868361353874207, -0.494655042886734, -1.2830430269241333, -0.6537995934486389,
  0.531403660774231, 1.2350903749465942, -1.1070388555526733, -1.7173612117767334, 1.534561038017273,
  0.876044750213623, -0.28708741068840027, 1.0216400623321533, -0.07439491897821426, -1.0922236442565918,
  -0.547156810760498, 1.1710889339447021, 0.0974961370229721, 0.9633745551109314, 0.8403232097625732,
  1.7198240756988525, -0.9609553813934326, -0.6375024914741516, 0.07472498714923859, 0.5599694848060608,
  -0.003206211142241955, -1.6034189462661743, 0.058098483830690384, -0.6302464604377747, 0.7466416358947754,
];

  /** [a, b, d] row-major data re-read with axes 0 and 1 swapped. */
  const swap01 = (data: ArrayLike<number>, [a, b, d]: number[]) => {
    const out: number[] = [];
    for (let j = 0; j < b; j++) for (let i = 0; i < a; i++) for (let l = 0; l < d; l++) out.push(data[(i * b + j) * d + l]);
    return out;
  };

  it('reproduces 200 consecutive samples of a published torch stream bit for bit', () => {
    const g = new Generator(0);
    expect(swap01(g.randn([4, 6, 5]).data, [4, 6, 5])).toEqual(Q);
    expect(swap01(g.randn([4, 2, 5]).data, [4, 2, 5])).toEqual(K);
    expect(swap01(g.randn([4, 2, 5]).data, [4, 2, 5])).toEqual(V);
  });

  it('with fusedMultiplyAdd, differs from that stream only by one ulp in rare samples', () => {
    const fused = new Generator(0, { fusedMultiplyAdd: true });
    const plain = new Generator(0);
    const a = fused.randn([200]).data as Float32Array;
    const b = plain.randn([200]).data as Float32Array;
    const bitsA = new Int32Array(a.buffer);
    const bitsB = new Int32Array(b.buffer);
    let differing = 0;
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(bitsA[i] - bitsB[i])).toBeLessThanOrEqual(1);
      if (bitsA[i] !== bitsB[i]) differing++;
    }
    expect(differing).toBeLessThan(10);
    // Over a latent-sized draw the two builds disagree in about 1% of samples.
    const big = new Generator(42, { fusedMultiplyAdd: true }).randn([65536]).data;
    const ref = new Generator(42).randn([65536]).data;
    let changed = 0;
    for (let i = 0; i < big.length; i++) if (big[i] !== ref[i]) changed++;
    expect(changed).toBeGreaterThan(100);
    expect(changed).toBeLessThan(2000);
  });

  it('applies mean and std with one fused multiply-add, like the kernel', () => {
    const z = new Generator(3).randn([32]).data;
    const scaled = new Generator(3).randn([32], { mean: 2, std: 0.5 }).data;
    for (let i = 0; i < 32; i++) expect(scaled[i]).toBe(fmaf(z[i], 0.5, 2));
  });

  it('has standard normal statistics over a latent-sized draw', () => {
    const x = new Generator(1234).randn([4, 128, 128]).data;
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(s2 / x.length - mean * mean) - 1)).toBeLessThan(0.02);
  });
});

describe('Generator seeding and state', () => {
  it('uses the low 32 bits for the engine and reports the 64-bit seed', () => {
    const big = new Generator(2n ** 32n + 5n);
    expect(big.initialSeed()).toBe(2n ** 32n + 5n);
    expect(Array.from(big.randn([20]).data)).toEqual(Array.from(new Generator(5).randn([20]).data));
    expect(new Generator(-1).initialSeed()).toBe(2n ** 64n - 1n); // two's complement, as torch
    expect(new Generator().initialSeed()).toBe(67280421310721n); // torch.Generator() default
  });

  it('rejects seeds torch would reject', () => {
    expect(() => new Generator(1.5)).toThrow(GeneratorSeedError);
    expect(() => new Generator(2n ** 64n)).toThrow(/outside/);
  });

  it('re-seeding clears the cached normal; state snapshots and clones replay the stream', () => {
    const g = new Generator(0);
    g.randn([3]); // leaves a cached sine
    g.manualSeed(0);
    expect(g.randn([1]).data[0]).toBe(1.5409960746765137);
    const snapshot = g.getState();
    const clone = g.clone();
    const next = Array.from(g.randn([5]).data);
    expect(Array.from(clone.randn([5]).data)).toEqual(next);
    g.setState(snapshot);
    expect(Array.from(g.randn([5]).data)).toEqual(next);
  });

  it('float16 output is the float32 sample rounded to half', () => {
    const half = new Generator(9).randn([40], { dtype: 'float16' });
    const full = new Generator(9).randn([40]);
    expect(half.dtype).toBe('float16');
    expect(Array.from(half.data)).toEqual(Array.from(cast(full, 'float16').data));
    // torch.rand(dtype=float16) draws 11-bit uniforms: (random() & 0x7FF) * 2^-11.
    const r = new Generator(0).rand([3], { dtype: 'float16' });
    const mt = new Mt19937(0);
    const expected = [0, 1, 2].map(() => (mt.next() & 0x7ff) / 2048);
    expect(Array.from(cast(r, 'float32').data)).toEqual(expected);
  });
});
