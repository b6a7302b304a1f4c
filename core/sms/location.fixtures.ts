import type { ParsedLocation } from '../../contract';

/**
 * Rider texts as riders write them (typos, no capitals, run-together words, four languages)
 * and what the parser must make of them. Only the fields given are checked; `stationId: null`
 * checks that no station is invented. Station ids are the CTA's map_id (cta_l_stations.geojson).
 */
export interface LocationCase {
  text: string;
  expect: Partial<Pick<ParsedLocation, 'stationId' | 'line' | 'direction' | 'busRoute' | 'busNumber' | 'railcar'>>;
}

export const LOCATION_CASES: LocationCase[] = [
  { text: 'Belmont', expect: { stationId: '41320' } },
  { text: 'man yelling at people on the platform at belmont', expect: { stationId: '41320' } },
  { text: 'Belmnot red line platform, guy with a knife', expect: { stationId: '41320', line: 'Red' } },
  { text: 'belmont blue line someone smoking crack', expect: { stationId: '40060', line: 'Blue' } },
  { text: 'Red Line car 5001 fight', expect: { line: 'Red', railcar: '5001' } },
  { text: 'red line car #5001 northbound guy harassing women', expect: { line: 'Red', railcar: '5001', direction: 'northbound' } },
  { text: '#9 bus 1234', expect: { busRoute: '9', busNumber: '1234' } },
  { text: 'on the 9 bus #1234 man threatening driver', expect: { busRoute: '9', busNumber: '1234' } },
  { text: 'bus 1234 route 66 someone with a gun', expect: { busRoute: '66', busNumber: '1234' } },
  { text: 'the 79 bus number 8201 eastbound fight in back', expect: { busRoute: '79', busNumber: '8201', direction: 'eastbound' } },
  { text: 'Fullerten stop, man exposing himself', expect: { stationId: '41220' } },
  { text: 'fullerton southbound red', expect: { stationId: '41220', line: 'Red', direction: 'southbound' } },
  { text: 'clark and lake platform fight', expect: { stationId: '40380' } },
  { text: 'At Clark/Lake someone is following me', expect: { stationId: '40380' } },
  { text: 'clarklake green line', expect: { stationId: '40380', line: 'G' } },
  { text: 'jackson red line stairs, guy passed out', expect: { stationId: '40560', line: 'Red' } },
  { text: 'jackson blue someone spitting on people', expect: { stationId: '40070', line: 'Blue' } },
  { text: 'howard station NB purple train', expect: { stationId: '40900', direction: 'northbound' } },
  { text: 'roosevelt orange line car 2712', expect: { stationId: '41400', line: 'Org', railcar: '2712' } },
  { text: '95th dan ryan bus terminal fight', expect: { stationId: '40450' } },
  { text: 'ohare blue line harassment', expect: { stationId: '40890', line: 'Blue' } },
  { text: "O'Hare station two men fighting", expect: { stationId: '40890' } },
  { text: 'chinatown stop, guy screaming', expect: { stationId: '41000' } },
  { text: 'logan sqaure blue', expect: { stationId: '41020', line: 'Blue' } },
  { text: 'harold washington library brown line', expect: { stationId: '40850', line: 'Brn' } },
  { text: 'library stop pink line drunk guy', expect: { stationId: '40850', line: 'Pink' } },
  { text: 'addison red line after cubs game fight', expect: { stationId: '41420', line: 'Red' } },
  { text: 'sheridann red', expect: { stationId: '40080', line: 'Red' } },
  { text: 'merchandise mart brown northbound', expect: { stationId: '40460', line: 'Brn', direction: 'northbound' } },
  { text: 'damen pink line platform', expect: { stationId: '40210', line: 'Pink' } },
  { text: 'sox 35th red line crowd fighting', expect: { stationId: '40190', line: 'Red' } },
  { text: 'midway orange', expect: { stationId: '40930', line: 'Org' } },
  { text: 'purpel line car 2422 man with gun', expect: { line: 'P', railcar: '2422' } },
  { text: 'help', expect: { stationId: null } },
  { text: 'someone is following me please help', expect: { stationId: null } },
  { text: 'there is a fight on the train', expect: { stationId: null } },
  // Spanish
  { text: 'Estoy en Belmont, un hombre me sigue', expect: { stationId: '41320' } },
  { text: 'linea roja vagon 5001 pelea', expect: { line: 'Red', railcar: '5001' } },
  { text: 'autobús 1234 ruta 9 un hombre armado', expect: { busRoute: '9', busNumber: '1234' } },
  { text: 'estacion fulerton hacia el norte', expect: { stationId: '41220', direction: 'northbound' } },
  // Polish
  { text: 'Jestem na stacji Belmont, ktoś mnie śledzi', expect: { stationId: '41320' } },
  { text: 'czerwona linia wagon 5001 bójka', expect: { line: 'Red', railcar: '5001' } },
  { text: 'autobus 1234 linia 9 pijany mężczyzna', expect: { busRoute: '9', busNumber: '1234' } },
  // Chinese
  { text: '我在Belmont站，有人跟踪我', expect: { stationId: '41320' } },
  { text: '红线5001号车厢有人打架', expect: { line: 'Red', railcar: '5001' } },
  { text: '9路公交车1234有人持刀', expect: { busRoute: '9', busNumber: '1234' } },
];
