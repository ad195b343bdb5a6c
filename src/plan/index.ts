// The planner's public face: config + observed facts -> the desired kernel state.
export * from './types.ts';
export * from './addressing.ts';
export { planRouter, steeringFor } from './router.ts';
export type { RouterInputs } from './router.ts';
export { planConcentrator } from './concentrator.ts';
export type { ConcentratorInputs } from './concentrator.ts';
