// Entry point of the `sentinel` command (see bin/sentinel.js).
import { main } from './program';

await main(process.argv);
