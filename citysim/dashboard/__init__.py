"""The live classroom dashboard: two cities on one incident stream, in the browser.

``citysim dashboard [SCENARIO]`` serves :mod:`citysim.dashboard.app` (a Solara
page) on this machine. Data flows one way: the page reads the model through
:mod:`citysim.dashboard.live` (an adapter that adds up, never decides) and
draws; the levers it offers come from :class:`citysim.regimes.Regime`.
Needs the ``viz`` extra (``pip install 'citysim[viz]'``) only to serve the
page: this package's adapter modules import no Solara.
"""
