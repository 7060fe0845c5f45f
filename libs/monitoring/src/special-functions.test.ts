import { InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import {
  chiSquareSurvival,
  kolmogorovSurvival,
  logGamma,
  normalCdf,
  normalQuantile,
  normalSurvival,
  regularizedBeta,
  regularizedGammaP,
  regularizedGammaQ,
  studentTCdf,
  studentTQuantile,
  studentTTwoSidedPValue,
} from './index.js';

// Reference values from SciPy 1.17.1 (scipy.special / scipy.stats), printed with repr().
const close = (actual: number, expected: number, relative = 1e-10): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-300);
};

describe('special functions against SciPy', () => {
  it('log gamma', () => {
    close(logGamma(0.5), 0.5723649429247);
    close(logGamma(100.5), 361.43554046777757);
    close(logGamma(3), Math.log(2));
  });

  it('regularized incomplete gamma', () => {
    close(regularizedGammaP(2.5, 1.5), 0.3000141641213724); // gammainc(2.5, 1.5)
    close(regularizedGammaQ(10, 25), 0.0002214766382487835); // gammaincc(10, 25)
    close(regularizedGammaP(0.5, 0.01), 0.11246291601828491);
    expect(regularizedGammaP(3, 0)).toBe(0);
    expect(regularizedGammaQ(3, Infinity)).toBe(0);
    expect(() => regularizedGammaP(0, 1)).toThrow(InvalidArgumentError);
    expect(() => regularizedGammaQ(1, -1)).toThrow(InvalidArgumentError);
  });

  it('regularized incomplete beta', () => {
    close(regularizedBeta(0.4, 2, 3), 0.5248);
    close(regularizedBeta(0.9, 0.5, 5), 0.9999974294103009);
    close(regularizedBeta(0.45, 50, 60), 0.4642352914306031, 1e-9);
    expect(regularizedBeta(0, 2, 3)).toBe(0);
    expect(regularizedBeta(1, 2, 3)).toBe(1);
    expect(() => regularizedBeta(1.5, 2, 3)).toThrow(/\[0, 1\]/);
  });

  it('chi-square survival', () => {
    close(chiSquareSurvival(3.84, 1), 0.05004352124870519);
    close(chiSquareSurvival(20, 10), 0.029252688076961124);
    close(chiSquareSurvival(150, 100), 0.0009039320423540184, 1e-9);
    close(chiSquareSurvival(0.5, 3), 0.9188914116546758);
    expect(chiSquareSurvival(0, 4)).toBe(1);
  });

  it('normal distribution', () => {
    close(normalCdf(1), 0.8413447460685429, 1e-13);
    close(normalCdf(-1.5), 0.06680720126885807, 1e-13);
    close(normalSurvival(8), 6.22096057427174e-16, 1e-12);
    close(normalQuantile(0.975), 1.959963984540054, 1e-14);
    close(normalQuantile(0.8), 0.8416212335729143, 1e-14);
    close(normalQuantile(1e-10), -6.361340902404056, 1e-13);
    expect(normalQuantile(0.5)).toBe(0);
    for (const p of [1e-300, 1e-12, 0.01, 0.3, 0.7, 0.99, 1 - 1e-12])
      close(normalCdf(normalQuantile(p)), p, 1e-12);
  });

  it('Student t distribution', () => {
    close(studentTCdf(2, 5), 0.9490302605850708, 1e-12);
    close(studentTCdf(-3.5, 12.3), 0.002115267617017044, 1e-11);
    close(1 - studentTCdf(10, 3), 0.0010641995292070751, 1e-9);
    close(studentTTwoSidedPValue(10, 3), 2 * 0.0010641995292070751, 1e-11);
    close(studentTQuantile(0.975, 9), 2.262157162798205, 1e-12);
    close(studentTQuantile(0.975, 3.7), 2.8675207071911895, 1e-12);
    close(studentTQuantile(0.995, 120), 2.6174211451068654, 1e-12);
    close(studentTQuantile(0.025, 9), -2.262157162798205, 1e-12);
  });

  it('Kolmogorov distribution (scipy.stats.kstwobign.sf)', () => {
    close(kolmogorovSurvival(0.3), 0.9999906941986655, 1e-12);
    close(kolmogorovSurvival(0.5), 0.9639452436648751, 1e-12);
    close(kolmogorovSurvival(1), 0.26999967167735456, 1e-12);
    close(kolmogorovSurvival(1.18), 0.1234538094297657, 1e-12);
    close(kolmogorovSurvival(1.36), 0.049485876755377876, 1e-12);
    close(kolmogorovSurvival(2.5), 7.453306344157342e-6, 1e-10);
    expect(kolmogorovSurvival(0)).toBe(1);
  });
});
