import TollgateCLI

await Tollgate.launch()
