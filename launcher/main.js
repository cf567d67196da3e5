'use strict';
// runs.main of the action: run `app-token action` (see launch.js).
require('./launch').main('action');
