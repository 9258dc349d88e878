/**
 * A small English text for character-level language models, written for APS Studio and
 * placed in the public domain by its authors.
 */
export const LIGHTHOUSE_TEXT = `The lighthouse stood at the end of the long grey spit, where the sand gave way to stones and the stones gave way to the sea. Every evening the keeper climbed the hundred and twelve steps with a can of oil in one hand and a lantern in the other, and every evening he counted them aloud, because his father had counted them before him and his grandfather before that.

The light was not large. A traveller from the city once laughed at it and said that a good kitchen lamp would do as well. The keeper did not argue. He polished the brass, trimmed the wick, wound the clockwork that turned the lens, and watched the beam go out across the water, slow and patient, once every nine seconds.

In winter the storms came from the north. The wind pressed against the windows until the glass hummed, and the waves climbed the rocks and fell back white. On those nights the keeper did not sleep. He sat by the lens with a blanket over his knees and a pot of tea on the stove, and he listened. He could tell a fishing boat from a trading ship by the sound of its engine, and a trading ship from a ferry by the way its horn was blown.

One night, near the turn of the year, the clockwork stopped. The keeper heard the silence before he saw the stillness of the beam. He climbed into the narrow space beneath the lens and found that a spring had broken. There was no spare. The nearest smith lived in the village across the bay, and no boat would cross in such weather.

So the keeper turned the lens himself. He set his hands on the iron handle and pushed, counting to nine, and pushed again, and counted again. His arms ached by midnight. By two in the morning he could no longer feel his fingers, and he tied the handle to his belt and turned it by walking in a small circle, around and around, like a donkey at a mill. Outside, the beam went out across the water, slow and patient, once every nine seconds, as it always had.

At dawn the storm broke. A trawler that had sheltered in the lee of the point came into the harbour with its nets full, and its captain walked up the spit to thank the keeper for the light. He found him asleep on the floor of the lamp room, the rope still tied to his belt, and the lens still turning from the last push he had given it.

The smith came the next week and fitted a new spring. The keeper paid him in fish and in tea, and when the smith asked why he had not simply let the light stop for one night, the keeper thought for a while and said that a light is only useful if nobody has to wonder whether it will be there. Then he went up the hundred and twelve steps, counting them aloud, to trim the wick for the evening.
`;
