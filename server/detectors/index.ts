/** Sentence-driven detectors in the order they must run: causes of a halt before infusion_stopped. */
import { detectAirInLine } from './airInLine.ts';
import { detectClockError } from './clockError.ts';
import { detectDeliveryBelow24h } from './deliveryBelow24h.ts';
import { detectInfusionStopped } from './infusionStopped.ts';
import { detectLowBattery } from './lowBattery.ts';
import { detectLinePressureLost } from './linePressureLost.ts';
import { detectLowReservoir } from './lowReservoir.ts';
import { detectNoFlow } from './noFlow.ts';
import { detectOcclusion } from './occlusion.ts';
import { runProgramChecks } from './programChecks.ts';
import { detectPumpAlarm } from './pumpAlarm.ts';
import { detectPumpFault } from './pumpFault.ts';
import { detectPumpOff } from './pumpOff.ts';
export { detectPumpOffAfterVisit } from './pumpOff.ts';
import type { SentenceInput } from './types.ts';

export { detectSignalLost, clearSignalLost, serverStamp } from './signalLost.ts';
export { raiseGatewayOffline, clearGatewayOffline } from './gatewayOffline.ts';
export { endAssignmentAlerts, recordsStamp, verifyPumpNow } from './programChecks.ts';
export { detectDrugLimit, drugKey } from './drugLimit.ts';

export function runSentenceDetectors(d: SentenceInput): void {
  detectClockError(d);
  detectOcclusion(d);
  // after occlusion: a frozen vi with the pressure climbing is the occlusion's, not no_flow's
  detectNoFlow(d);
  detectLinePressureLost(d);
  detectAirInLine(d);
  detectPumpFault(d);
  detectPumpAlarm(d);
  detectPumpOff(d);
  detectInfusionStopped(d);
  // before the projection: a wrong program explains a short projection, and one alert says it
  runProgramChecks(d);
  detectDeliveryBelow24h(d);
  detectLowReservoir(d);
  detectLowBattery(d);
}
